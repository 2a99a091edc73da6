// The only way the UI talks to the server: the /ai-bridge/ REST API, same origin.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

import { API_WRITE_HEADER, API_WRITE_HEADER_VALUE } from '../../plugin/core/api-write-header';
import type { ApiError } from '../../plugin/core/admin-api';

/** /ai-bridge/ui/ — the <base> the gateway writes into index.html. */
export const uiRoot = new URL('./', document.baseURI);
/** /ai-bridge/ */
export const apiRoot = new URL('../', uiRoot);
/** Orthanc's own root (Explorer lives at app/explorer.html). */
export const orthancRoot = new URL('../', apiRoot);

export class RequestError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function apiUrl(path: string): string {
  return new URL(path, apiRoot).toString();
}

async function failure(response: Response): Promise<RequestError> {
  try {
    const body = (await response.json()) as Partial<ApiError>;
    if (body.error !== undefined) return new RequestError(response.status, body.error.code, `${body.error.code}: ${body.error.message}`);
  } catch {
    // not JSON: fall through to the status line
  }
  return new RequestError(response.status, `HTTP_${response.status}`, `HTTP ${response.status} ${response.statusText}`);
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(apiUrl(path), { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** Every state-changing call carries the API's write header (the gateway's CSRF defence refuses it otherwise). */
export async function send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json', [API_WRITE_HEADER]: API_WRITE_HEADER_VALUE } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { accept: 'application/json', 'content-type': 'application/json', [API_WRITE_HEADER]: API_WRITE_HEADER_VALUE };
  }
  const response = await fetch(apiUrl(path), init);
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/**
 * Polls one GET with If-None-Match: an unchanged answer costs a 304 and no
 * body. Orthanc answers a plugin's REST callback as one complete body, so
 * Server-Sent Events cannot stream through it; polling is the live channel.
 */
export class Poller<T> implements ReactiveController {
  readonly #path: () => string;
  readonly #intervalMs: number;
  readonly #onValue: (value: T) => void;
  readonly #onError: (error: RequestError | Error) => void;
  #etag: string | null = null;
  #lastPath = '';
  #timer: number | undefined;
  #stopped = true;

  /** Polls while `host` is in the document: a Lit controller, so pages need no connect/disconnect code of their own. */
  constructor(host: ReactiveControllerHost, path: () => string, intervalMs: number, onValue: (value: T) => void, onError: (error: RequestError | Error) => void) {
    this.#path = path;
    this.#intervalMs = intervalMs;
    this.#onValue = onValue;
    this.#onError = onError;
    host.addController(this);
  }

  hostConnected(): void {
    this.start();
  }

  hostDisconnected(): void {
    this.stop();
  }

  start(): void {
    this.#stopped = false;
    void this.poll();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) window.clearTimeout(this.#timer);
  }

  /** Polls now (e.g. after an action), then on the interval. */
  async poll(): Promise<void> {
    if (this.#timer !== undefined) window.clearTimeout(this.#timer);
    const path = this.#path();
    if (path !== this.#lastPath) this.#etag = null;
    this.#lastPath = path;
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.#etag !== null) headers['if-none-match'] = this.#etag;
      const response = await fetch(apiUrl(path), { headers, cache: 'no-store' });
      if (response.status !== 304) {
        if (!response.ok) throw await failure(response);
        this.#etag = response.headers.get('etag');
        this.#onValue((await response.json()) as T);
      }
    } catch (error) {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    }
    if (!this.#stopped) this.#timer = window.setTimeout(() => { void this.poll(); }, this.#intervalMs);
  }
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatTime(iso: string | null): string {
  return iso === null ? '—' : new Date(iso).toLocaleString();
}
