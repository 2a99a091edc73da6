import { join } from 'node:path';

import type { CategoryRequestProgress } from '../../core/central-api';

/** What the gateway (PHI zone) reported about a request: counts only, no identifier. */
export interface GatewayProgress {
  readonly studiesFound: number;
  readonly instancesQueued: number;
  readonly searchComplete: boolean;
  readonly failed: boolean;
  /** Before a search: the site's administrator has not decided yet, or said no (or its limits did; detail says why). */
  readonly decision?: 'awaiting-approval' | 'declined';
  readonly detail?: string;
}

/**
 * The state the site reports for a request. Nothing heard from the gateway
 * yet means nobody at the site has approved it: awaiting-approval, never
 * "searching" (the site searches nothing before its administrator says so).
 */
export function progressState(found: GatewayProgress | undefined, uploadsPending: number, instancesHandled: number): CategoryRequestProgress['state'] {
  if (found === undefined || found.decision === 'awaiting-approval') return 'awaiting-approval';
  if (found.decision === 'declined') return 'declined';
  if (found.failed) return 'failed';
  if (found.searchComplete) return uploadsPending > 0 || instancesHandled < found.instancesQueued ? 'uploading' : 'done';
  return found.instancesQueued > 0 ? 'uploading' : 'searching';
}

/** central/requests/<sha-free name>.json: request ids come from the central server, so they are made safe as file names. */
export function gatewayProgressFile(centralDirectory: string, requestId: string): string {
  return join(centralDirectory, 'requests', `${Buffer.from(requestId, 'utf8').toString('base64url')}.json`);
}
