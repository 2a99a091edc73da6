import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  CATEGORY_REQUEST_HEADER, centralPaths, type Catalogue, type CatalogueEntry, type CategoryRequest, type CategoryRequestProgress, type PackageArchive,
} from '../../plugin/core/central-api';
import { signCatalogue } from '../../plugin/core/model-package';

export interface ReceivedUpload {
  readonly body: Buffer;
  readonly requestId: string | undefined;
}

/**
 * A loopback server speaking plugin/core/central-api.ts, for tests of the
 * site's link without the Koa server: it signs its catalogue with a registry
 * key, serves package archives, takes uploads and progress. Tests change what
 * it serves to play a tampered package, a replayed catalogue, a refusal.
 */
export class ContractServer {
  readonly uploads: ReceivedUpload[] = [];
  readonly progress: { requestId: string; body: CategoryRequestProgress }[] = [];
  readonly hits: { method: string; path: string; status: number }[] = [];
  serial = 1;
  entries: CatalogueEntry[] = [];
  readonly archives = new Map<string, PackageArchive>();
  requests: CategoryRequest[] = [];
  /** Status for the next uploads (one per upload, then 201). */
  uploadAnswers: { status: number; body: unknown }[] = [];
  /** Signs the catalogue with this key instead (a catalogue from someone else). */
  signingKeyPem: string;
  /** The site the catalogue says it was issued to. */
  siteId = 'site-a';
  /** Added to the server's clock when it dates a catalogue (a stale or future copy). */
  clockOffsetMs = 0;
  validityMs = 3_600_000;
  /** Bumped to serve the same serial under a new ETag (a re-issue). */
  reissue = 0;
  readonly #server: Server;

  constructor(readonly token: string, readonly registryKeyPem: string) {
    this.signingKeyPem = registryKeyPem;
    this.#server = createServer((request, response) => { void this.#handle(request, response); });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => { this.#server.listen(0, '127.0.0.1', resolve); });
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => { this.#server.close(() => { resolve(); }); });
  }

  publish(entry: CatalogueEntry, archive: PackageArchive): void {
    this.entries.push(entry);
    this.archives.set(`${entry.id}@${entry.version}`, archive);
    this.serial++;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = request.url ?? '';
    const answer = (status: number, value?: unknown, headers: Record<string, string> = {}): void => {
      this.hits.push({ method: request.method ?? '', path, status });
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(value === undefined ? undefined : JSON.stringify(value));
    };
    if (request.headers.authorization !== `Bearer ${this.token}`) {
      answer(401, { error: { code: 'CENTRAL_UNAUTHORIZED', message: 'unknown site token' } });
      return;
    }
    if (request.method === 'GET' && path === centralPaths.catalogue) {
      const etag = `"${String(this.serial)}-${String(this.reissue)}"`;
      if (request.headers['if-none-match'] === etag) {
        answer(304);
        return;
      }
      const now = Date.now() + this.clockOffsetMs;
      const catalogue: Catalogue = {
        format: 'orthanc-ai-bridge catalogue v1', serial: this.serial, issuedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + this.validityMs).toISOString(), siteId: this.siteId, models: this.entries,
      };
      answer(200, signCatalogue(catalogue, this.signingKeyPem), { etag });
      return;
    }
    const packageMatch = /^\/api\/v1\/models\/([^/]+)\/([^/]+)\/package$/.exec(path);
    if (request.method === 'GET' && packageMatch !== null) {
      const archive = this.archives.get(`${decodeURIComponent(packageMatch[1] ?? '')}@${decodeURIComponent(packageMatch[2] ?? '')}`);
      if (archive === undefined) answer(404, { error: { code: 'CENTRAL_NOT_FOUND', message: 'no such version' } });
      else answer(200, archive);
      return;
    }
    if (request.method === 'POST' && path === centralPaths.uploads) {
      const next = this.uploadAnswers.shift();
      if (next !== undefined) {
        answer(next.status, next.body);
        return;
      }
      const requestId = request.headers[CATEGORY_REQUEST_HEADER];
      this.uploads.push({ body, requestId: typeof requestId === 'string' ? requestId : undefined });
      answer(201, { uploadId: `u${String(this.uploads.length)}`, sopInstanceUid: '', category: { modality: '', bodyPart: '' } });
      return;
    }
    if (request.method === 'GET' && path === centralPaths.requests) {
      answer(200, this.requests);
      return;
    }
    const progressMatch = /^\/api\/v1\/requests\/([^/]+)\/progress$/.exec(path);
    if (request.method === 'POST' && progressMatch !== null) {
      this.progress.push({ requestId: decodeURIComponent(progressMatch[1] ?? ''), body: JSON.parse(body.toString('utf8')) as CategoryRequestProgress });
      answer(200, {});
      return;
    }
    answer(404, { error: { code: 'CENTRAL_NOT_FOUND', message: `no route ${path}` } });
  }
}
