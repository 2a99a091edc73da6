import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

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

/** Addresses of the central server's host, resolved outside the sealed uplink (which has no DNS). */
export interface PinnedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * HTTP(S) to the central server with the site's bearer token. The token is
 * read from its file on every request, so a token rewritten in place needs no
 * restart, and it appears in no message this module builds. With `pinned`
 * addresses a host name is never looked up: the sealed uplink may not open the
 * UDP socket DNS needs, so the gateway resolves the name and hands the result
 * over; TLS still checks the certificate against the host name.
 */
export class CentralHttp {
  readonly #base: string;
  readonly #tokenFile: string;
  readonly #traffic: TrafficCounter | undefined;
  readonly #lookup: LookupFunction | undefined;

  constructor(url: string, tokenFile: string, traffic?: TrafficCounter, pinned?: readonly PinnedAddress[]) {
    this.#base = url.replace(/\/+$/, '');
    this.#tokenFile = tokenFile;
    this.#traffic = traffic;
    this.#lookup = pinned === undefined || pinned.length === 0 ? undefined : pinnedLookup(pinned);
  }

  get url(): string {
    return this.#base;
  }

  async request(method: 'GET' | 'POST' | 'PUT', path: string, options: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<CentralResponse> {
    const headers: Record<string, string> = { ...options.headers, authorization: `Bearer ${this.#token()}` };
    const url = `${this.#base}${path}`;
    const sent = Buffer.byteLength(`${method} ${url}\r\n`) +
      Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}: ${v}\r\n`), 0) +
      (options.body === undefined ? 0 : Buffer.byteLength(options.body));
    let response: CentralResponse;
    try {
      response = await this.#send(method, new URL(url), headers, options.body);
    } catch (error) {
      this.#traffic?.record(sent, 0);
      const cause = error instanceof Error ? `: ${(error as NodeJS.ErrnoException).code ?? error.message}` : '';
      throw new CentralLinkError('AIB_CENTRAL_UNREACHABLE', `${method} ${path} on the central server failed${cause}`, { path }, true);
    }
    this.#traffic?.record(sent, response.body.length);
    return response;
  }

  #send(method: string, url: URL, headers: Record<string, string>, body: Buffer | string | undefined): Promise<CentralResponse> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<CentralResponse>((resolve, reject) => {
      const request = client.request(url, {
        method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(this.#lookup === undefined ? {} : { lookup: this.#lookup }),
        // One connection per request: a kept-alive socket the server closed meanwhile would fail a request it never saw.
        agent: false,
        // A central server that stops answering must not hold the link forever.
        signal: AbortSignal.timeout(120_000),
      }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => { chunks.push(chunk); });
        answer.on('error', reject);
        answer.on('end', () => {
          const received = new Headers();
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined) received.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          resolve({ status: answer.statusCode ?? 0, headers: received, body: Buffer.concat(chunks) });
        });
      });
      request.on('error', reject);
      request.end(body);
    });
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

/** A dns.lookup stand-in answering the pinned addresses (net asks with or without `all`). */
function pinnedLookup(pinned: readonly PinnedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) {
      (callback as unknown as (error: null, addresses: PinnedAddress[]) => void)(null, [...pinned]);
      return;
    }
    const first = pinned[0];
    if (first === undefined) {
      callback(Object.assign(new Error('no pinned address'), { code: 'ENOTFOUND' }), '', 4);
      return;
    }
    callback(null, first.address, first.family);
  };
}
