import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

import type { HttpReply } from '../../sdk';
import { GatewayError } from '../gateway-errors';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface CachedFile { readonly body: Buffer; readonly etag: string; readonly mtimeMs: number }

/**
 * The built admin UI (web-ui/, built by Vite into dist/web-ui) under
 * /ai-bridge/ui/. Vite names assets by content hash, so they are cached for
 * a year; index.html is revalidated each time (ETag), so a new build shows
 * at the next load. A path without a file extension is a client-side route
 * and gets index.html. Orthanc hands plugins the URI without a trailing
 * slash, so the depth of the browser's URL is unknown here: index.html gets
 * an absolute <base> (behind a reverse proxy that adds a prefix, the proxy's
 * X-Forwarded-Prefix is put in front).
 */
export class StaticUi {
  readonly #root: string;
  readonly #cache = new Map<string, CachedFile>();

  constructor(root: string) {
    this.#root = normalize(root);
  }

  /** `relative`: the path below /ai-bridge/ui/, '' for the root. */
  serve(relative: string, requestHeaders: Readonly<Record<string, string>>): HttpReply {
    const ifNoneMatch = requestHeaders['if-none-match'];
    const index = join(this.#root, 'index.html');
    if (!existsSync(index)) {
      throw new GatewayError('AIB_UI_NOT_BUILT', `the admin UI is not built (${index} is missing): run scripts/bootstrap.sh`, { path: index });
    }
    let clean: string;
    try {
      clean = decodeURIComponent(relative).replace(/^\/+/, '');
    } catch {
      throw new GatewayError('AIB_API_BAD_PARAMETER', 'the UI path is not valid percent-encoding', { parameter: 'path' });
    }
    if (extname(clean) === '') return this.#index(index, forwardedPrefix(requestHeaders['x-forwarded-prefix']), ifNoneMatch);
    const file = normalize(join(this.#root, clean));
    if (!file.startsWith(this.#root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      throw new GatewayError('AIB_API_NOT_FOUND', `no file ${clean} in the admin UI`, { path: clean });
    }
    const cached = this.#read(file);
    const hashed = clean.startsWith('assets/');
    const headers = { etag: cached.etag, 'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache', 'x-content-type-options': 'nosniff' };
    if (ifNoneMatch === cached.etag) return { status: 304, contentType: '', headers, body: Buffer.alloc(0) };
    return { status: 200, contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', headers, body: cached.body };
  }

  #index(index: string, prefix: string, ifNoneMatch: string | undefined): HttpReply {
    const base = `${prefix}/ai-bridge/ui/`;
    const cached = this.#read(index);
    const etag = `"${cached.etag.slice(1, -1)}-${createHash('sha256').update(base).digest('base64url').slice(0, 8)}"`;
    const headers = {
      etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff',
      // Everything the UI loads comes from this origin: no CDN, works offline.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'",
    };
    if (ifNoneMatch === etag) return { status: 304, contentType: '', headers, body: Buffer.alloc(0) };
    const html = cached.body.toString('utf8').replace('<head>', `<head><base href="${base}">`);
    return { status: 200, contentType: CONTENT_TYPES['.html'] ?? 'text/html', headers, body: Buffer.from(html, 'utf8') };
  }

  #read(file: string): CachedFile {
    const mtimeMs = statSync(file).mtimeMs;
    const hit = this.#cache.get(file);
    if (hit !== undefined && hit.mtimeMs === mtimeMs) return hit;
    const body = readFileSync(file);
    const entry = { body, mtimeMs, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    this.#cache.set(file, entry);
    return entry;
  }
}

/** A path prefix such as /pacs (no trailing slash); anything else is ignored. */
function forwardedPrefix(value: string | undefined): string {
  return value !== undefined && /^(\/[A-Za-z0-9._~-]+)+$/.test(value) ? value : '';
}
