/**
 * Admin calls to a central server from the command line: bearer token read
 * from a file, JSON in and out, a refusal turned into AIB_CLI_CENTRAL_REFUSED
 * carrying the server's CENTRAL_* code, message and every reason.
 */
import { readFileSync } from 'node:fs';

import type { CentralError } from '../core/central-api.js';
import { CliError } from './errors.js';

export interface CentralTarget {
  readonly url: string;
  readonly tokenFile: string;
}

export async function centralCall(target: CentralTarget, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<unknown> {
  let token: string;
  try {
    token = readFileSync(target.tokenFile, 'utf8').trim();
  } catch {
    throw new CliError('AIB_CLI_MISSING_FILE', `--token-file ${target.tokenFile} cannot be read`, { file: target.tokenFile });
  }
  let response: Response;
  try {
    response = await fetch(new URL(path, target.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    throw new CliError('AIB_CLI_CENTRAL_UNREACHABLE', `${target.url}: ${e instanceof Error ? e.message : String(e)}`, { url: target.url });
  }
  const text = await response.text();
  if (!response.ok) {
    let error: CentralError['error'] | undefined;
    try {
      error = (JSON.parse(text) as Partial<CentralError>).error;
    } catch {
      error = undefined;
    }
    const reasons = error?.reasons?.length ? `\n  - ${error.reasons.join('\n  - ')}` : '';
    throw new CliError('AIB_CLI_CENTRAL_REFUSED', `central server refused (HTTP ${String(response.status)} ${error?.code ?? ''}): ${error?.message ?? text}${reasons}`, {
      status: response.status, centralCode: error?.code ?? null,
    });
  }
  return text === '' ? null : (JSON.parse(text) as unknown);
}
