// Messages between the gateway and the uplink, the one process that talks to
// the central server (de-identified zone). Checked on arrival.
import type { CentralLinkSettings } from './annotate-messages';
import type { SealReport } from './seal-report';

/** Gateway → uplink, once. */
export interface UplinkInitRequest {
  readonly k: 'init';
  /** central/: upload queue, staging, link state; the only folder the uplink reads or writes. */
  readonly centralDirectory: string;
  readonly central: CentralLinkSettings;
  /** The central host's addresses, resolved by the gateway: the sealed uplink has no DNS. Empty for an IP literal. */
  readonly addresses: readonly { readonly address: string; readonly family: 4 | 6 }[];
}

export interface UplinkReady {
  readonly k: 'ready';
  readonly seal: SealReport;
}

export function isUplinkReady(value: unknown): value is UplinkReady {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)['k'] === 'ready' &&
    typeof (value as Record<string, unknown>)['seal'] === 'object';
}

/** The requests the uplink may send the gateway, relayed to the annotator as they are. */
export const UPLINK_RELAYED_REQUESTS = ['list-models', 'install-package'] as const;
