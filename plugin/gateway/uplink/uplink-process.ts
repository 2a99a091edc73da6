import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

import type { CentralLinkSettings } from '../../core/annotate-messages';
import type { FrameHeader } from '../../core/frame-codec';
import { sealShortfall, type SealReport } from '../../core/seal-report';
import { isUplinkReady, UPLINK_RELAYED_REQUESTS, type UplinkReady } from '../../core/uplink-messages';
import type { AnnotatorPool } from '../annotation/annotator-pool';
import type { Logger } from '../logger';
import { acceptSealed } from '../workers/accept-sealed';
import { PermanentRefusal, ProcessPool } from '../workers/process-pool';

export interface UplinkOptions {
  /** dist/plugin/annotate/central-link/uplink-main.js, started by path. */
  readonly script: string;
  readonly centralDirectory: string;
  readonly central: CentralLinkSettings;
}

/**
 * The uplink process (one), the site's only connection to the central
 * server. The gateway resolves the central host for it (the sealed uplink
 * has no DNS) and relays its two installation requests to the annotator;
 * it passes nothing else between them.
 */
export class UplinkProcess {
  readonly #options: UplinkOptions;
  readonly #annotator: AnnotatorPool;
  readonly #log: Logger;
  #pool: ProcessPool<UplinkReady> | undefined;

  constructor(options: UplinkOptions, annotator: AnnotatorPool, log: Logger) {
    this.#options = options;
    this.#annotator = annotator;
    this.#log = log;
  }

  /** Resolves the central host (once: a changed address needs a restart of the plugin), then starts the uplink. */
  async start(): Promise<void> {
    const { hostname } = new URL(this.#options.central.url);
    const host = hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string; family: 4 | 6 }[] = [];
    if (isIP(host) === 0) {
      try {
        addresses = (await lookup(host, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
      } catch (error) {
        this.#log.error('uplink-host-unresolved', { stage: 'uplink',
          message: `the central server's host ${host} cannot be resolved (${error instanceof Error ? error.message : String(error)}); the uplink starts without addresses and every request fails until the plugin restarts` });
      }
    }
    this.#pool = new ProcessPool<UplinkReady>({
      name: 'uplink',
      processes: 1,
      script: this.#options.script,
      init: { k: 'init', centralDirectory: this.#options.centralDirectory, central: { ...this.#options.central }, addresses },
      acceptReady: (header, pid) => acceptSealed(header, pid, (ready) => {
        if (!isUplinkReady(ready)) return typeof ready['message'] === 'string' ? ready['message'] : 'no ready message';
        const shortfall = sealShortfall('uplink', ready.seal);
        if (shortfall !== undefined) return new PermanentRefusal(`its seal is incomplete: ${shortfall}`);
        this.#log.info('uplink-ready', { stage: 'uplink',
          message: `uplink ready (TCP to the central server's port only, Landlock ${ready.seal.landlock} ABI ${String(ready.seal.landlockAbi)})` });
        return ready;
      }),
      onRequest: (frame) => this.#relay(frame.header),
    }, this.#log);
    this.#pool.start();
  }

  seal(): SealReport | null {
    return this.#pool?.readyReports()[0]?.seal ?? null;
  }

  refusals(): { readonly process: number; readonly reason: string }[] {
    return this.#pool?.refusals() ?? [];
  }

  async stop(): Promise<void> {
    await this.#pool?.stop();
  }

  async #relay(header: FrameHeader): Promise<FrameHeader> {
    const kind = header.k;
    if (!(UPLINK_RELAYED_REQUESTS as readonly string[]).includes(kind)) return { k: 'error', message: `the uplink may not ask ${kind}` };
    // The uplink's request id means nothing to the annotator: the pool numbers its own.
    const request = Object.fromEntries(Object.entries(header).filter(([field]) => field !== 'id'));
    const reply = await this.#annotator.relay({ ...request, k: kind });
    return { ...reply, k: String(reply['k']) };
  }
}
