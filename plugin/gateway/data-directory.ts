import { accessSync, constants, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { ConfigError } from './gateway-errors';

/** The DataDirectory layout of DESIGN.md; the zone of each path is in README. */
export interface DataLayout {
  readonly root: string;
  readonly stateDb: string;
  readonly auditLog: string;
  readonly phi: string;
  readonly vaultDb: string;
  readonly siteKey: string;
  readonly spool: string;
  readonly deid: string;
  readonly outbox: string;
  readonly models: string;
  /** De-identified zone: the central link's state and upload queue. */
  readonly central: string;
}

/** `deidDirectory`: AiBridge.DeidDirectory, a folder several nodes share; empty or absent: deid/ of the root. */
export function dataLayout(root: string, deidDirectory = ''): DataLayout {
  return {
    root,
    stateDb: join(root, 'state.sqlite'),
    auditLog: join(root, 'audit.jsonl'),
    phi: join(root, 'phi'),
    vaultDb: join(root, 'phi', 'vault.sqlite'),
    siteKey: join(root, 'phi', 'site.key'),
    spool: join(root, 'phi', 'spool'),
    deid: deidDirectory === '' ? join(root, 'deid') : deidDirectory,
    outbox: join(root, 'outbox'),
    models: join(root, 'models'),
    central: join(root, 'central'),
  };
}

/** Creates the folders owner-only (0700): PHI lives here. */
export function prepareDataDirectory(layout: DataLayout): void {
  try {
    for (const dir of [layout.root, layout.phi, layout.spool, layout.deid, layout.outbox, layout.models, layout.central]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    accessSync(layout.root, constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError('AIB_CONFIG_DATA_DIRECTORY', `AiBridge.DataDirectory ${layout.root} is not usable: ${reason}`, { key: 'AiBridge.DataDirectory' });
  }
}

/**
 * Removes what a stopped gateway left in phi/spool (originals of jobs cut off
 * mid-way, half-written temporaries): at start nothing is in flight, and each
 * job spools its original again when it runs. Returns how many were removed.
 */
export function sweepSpool(layout: DataLayout): number {
  let removed = 0;
  for (const name of readdirSync(layout.spool)) {
    rmSync(join(layout.spool, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
