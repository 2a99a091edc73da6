import { join } from 'node:path';

/** What the gateway (PHI zone) reported about a request: counts only, no identifier. */
export interface GatewayProgress {
  readonly studiesFound: number;
  readonly instancesQueued: number;
  readonly searchComplete: boolean;
  readonly failed: boolean;
  readonly detail?: string;
}

/** central/requests/<sha-free name>.json: request ids come from the central server, so they are made safe as file names. */
export function gatewayProgressFile(centralDirectory: string, requestId: string): string {
  return join(centralDirectory, 'requests', `${Buffer.from(requestId, 'utf8').toString('base64url')}.json`);
}
