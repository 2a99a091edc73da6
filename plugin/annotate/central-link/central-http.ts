import { readFileSync } from 'node:fs';

import type { CentralError } from '../../core/central-api';
import { CentralLinkError } from './central-link-error';
import type { TrafficCounter } from './traffic-counter';

export interface CentralResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** A network error or a 5xx/429 is worth another try; any other 4xx is the server's final word. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** The server's reason from a CentralError body, else the start of the body. */
export function centralReason(response: CentralResponse): string {
  const text = response.body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as Partial<CentralError>;
    if (parsed.error !== undefined) {
      const reasons = parsed.error.reasons === undefined || parsed.error.reasons.length === 0 ? '' : ` (${parsed.error.reasons.join('; ')})`;
      return `${parsed.error.code}: ${parsed.error.message}${reasons}`;
    }
  } catch {
    // not JSON: the text itself
  }
  return `HTTP ${response.status}: ${text.slice(0, 300)}`;
}

/**
 * HTTP(S) to the central server with the site's bearer token. The token is
 * read from its file on every request, so a rotated token needs no restart,
 * and it appears in no message this module builds.
 */
export class CentralHttp {
  readonly #base: string;
  readonly #tokenFile: string;
  readonly #traffic: TrafficCounter | undefined;

  constructor(url: string, tokenFile: string, traffic?: TrafficCounter) {
    this.#base = url.replace(/\/+$/, '');
    this.#tokenFile = tokenFile;
    this.#traffic = traffic;
  }

  get url(): string {
    return this.#base;
  }

  async request(method: 'GET' | 'POST', path: string, options: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<CentralResponse> {
    const headers: Record<string, string> = { ...options.headers, authorization: `Bearer ${this.#token()}` };
    const url = `${this.#base}${path}`;
    const sent = Buffer.byteLength(`${method} ${url}\r\n`) +
      Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}: ${v}\r\n`), 0) +
      (options.body === undefined ? 0 : Buffer.byteLength(options.body));
    let response: Response;
    try {
      response = await fetch(url, {
        method, headers, ...(options.body === undefined ? {} : { body: options.body }),
        // A central server that stops answering must not hold the link forever.
        signal: AbortSignal.timeout(120_000),
      });
    } catch (error) {
      this.#traffic?.record(sent, 0);
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new CentralLinkError('AIB_CENTRAL_UNREACHABLE', `${method} ${path} on the central server failed${cause}`, { path }, true);
    }
    const body = Buffer.from(await response.arrayBuffer());
    this.#traffic?.record(sent, body.length);
    return { status: response.status, headers: response.headers, body };
  }

  #token(): string {
    let token: string;
    try {
      token = readFileSync(this.#tokenFile, 'utf8').trim();
    } catch {
      throw new CentralLinkError('AIB_CENTRAL_CONFIG', `AiBridge.Central.SiteTokenFile ${this.#tokenFile} cannot be read`, { key: 'AiBridge.Central.SiteTokenFile' });
    }
    if (token === '' || /\s/.test(token))
      throw new CentralLinkError('AIB_CENTRAL_CONFIG', `AiBridge.Central.SiteTokenFile ${this.#tokenFile} does not hold one token`, { key: 'AiBridge.Central.SiteTokenFile' });
    return token;
  }
}
