/** A real central server on a free 127.0.0.1 port with a temp data directory, and small HTTP helpers for the tests. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { CentralPolicy } from '../../central/central-app';
import { startCentral, type RunningCentral } from '../../central/central-server';
import type { IssuedSite } from '../../plugin/core/central-api';
import { centralPaths } from '../../plugin/core/central-api';
import { keygen, signPackage, type KeyPairPem } from '../../plugin/core/model-package';

export const REPO = join(__dirname, '..', '..', '..');
export const SHARED = '/work/shared/data';

export interface Harness {
  readonly central: RunningCentral;
  readonly dir: string;
  readonly work: string;
  readonly author: KeyPairPem;
  readonly adminToken: string;
  call(method: string, path: string, token: string | undefined, body?: Buffer | string, headers?: Record<string, string>): Promise<Response>;
  addSite(siteId: string, models?: readonly string[]): Promise<IssuedSite>;
  /** A copy of a shipped package under work/, optionally edited, signed with `key` (null: unsigned). */
  packageCopy(name: string, key: KeyPairPem | null, edit?: (dir: string) => void): string;
  stop(): Promise<void>;
}

/** The model ids the harness's author key may sign. */
export const SHIPPED_MODELS = ['ct-head-brain', 'ct-chest-lung-fields'];

export async function startHarness(policy?: CentralPolicy): Promise<Harness> {
  const work = mkdtempSync(join(tmpdir(), 'aib-central-'));
  const dir = join(work, 'central');
  const author = keygen();
  writeFileSync(join(work, 'author.pub'), author.publicKeyPem);
  const central = await startCentral({ dataDir: dir, port: 0, host: '127.0.0.1', trustedKeys: [{ publicKeyPem: author.publicKeyPem, modelIds: SHIPPED_MODELS }], ...(policy === undefined ? {} : { policy }) });
  const adminToken = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  let copies = 0;
  const call = (method: string, path: string, token: string | undefined, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${central.url}${path}`, {
      method,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
      ...(body === undefined ? {} : { body }),
    });
  return {
    central, dir, work, author, adminToken, call,
    async addSite(siteId, models) {
      const response = await call('POST', centralPaths.adminSites, adminToken, JSON.stringify({ siteId, name: `Site ${siteId}`, ...(models ? { models } : {}) }));
      if (response.status !== 201) throw new Error(`site add: ${String(response.status)} ${await response.text()}`);
      return await response.json() as IssuedSite;
    },
    packageCopy(name, key, edit) {
      copies++;
      const target = join(work, `pkg-${String(copies)}`);
      cpSync(join(REPO, 'model-packages', name), target, { recursive: true });
      rmSync(join(target, 'signature.ed25519'), { force: true });
      edit?.(target);
      if (key !== null) signPackage(target, key.privateKeyPem);
      return target;
    },
    async stop() {
      await central.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Rewrites manifest.json through `change` (before signing). */
export function editManifest(dir: string, change: (m: Record<string, unknown>) => void): void {
  const file = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(manifest);
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
