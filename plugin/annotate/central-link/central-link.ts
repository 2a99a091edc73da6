/**
 * The site's link to the central server (de-identified zone; the gateway
 * never opens a connection to it). The uplink process runs it
 * (uplink-main.ts): every PollSeconds it
 *  - reads the catalogue with If-None-Match, verifies its registry signature,
 *    its site and freshness (catalogue-freshness.ts), and installs each new
 *    entitled version (download into central/staging/ → per-file sha256 →
 *    catalogue hashes and author key → the installer: the annotator's
 *    registry checks the signature, commissions and activates atomically);
 *    a package failing any check is recorded as refused and the active
 *    version keeps serving;
 *  - reads the open category requests and posts this site's progress;
 * and it drains the upload queue (the copies the annotator queued in
 * central/uploads/: the uplink reads nothing of deid/).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { CentralLinkSettings, RefusedPackage } from '../../core/annotate-messages';
import { CATEGORY_REQUEST_HEADER, centralPaths, type Catalogue, type CatalogueEntry, type CategoryRequest, type CategoryRequestProgress } from '../../core/central-api';
import { AiBridgeError } from '../../core/ai-bridge-error';
import { readDeidHeader } from '../deid-header';
import { CatalogueVerifier } from './catalogue-verifier';
import { centralReason, CentralHttp, isTransientStatus, type PinnedAddress } from './central-http';
import { CentralLinkError } from './central-link-error';
import { LinkStateFile, readJson, type LinkState, type RequestState } from './link-state';
import type { ModelInstaller } from './model-installer';
import { fetchPackage } from './package-fetch';
import { TrafficCounter } from './traffic-counter';
import { UploadQueue, type StoredOrder } from './upload-queue';
import { gatewayProgressFile, progressState, type GatewayProgress } from './request-progress';

const MAX_REFUSED_KEPT = 100;
const MAX_UPLOAD_BACKOFF_MS = 300_000;
const UPLOAD_CHECK_MS = 2_000;

export type LinkLog = (line: string) => void;

/** Dotted versions compared part by part, numerically where both parts are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const d = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (d !== 0) return d;
  }
  return 0;
}

function message(error: unknown): string {
  if (error instanceof AiBridgeError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export class CentralLink {
  readonly #settings: CentralLinkSettings;
  readonly #installer: ModelInstaller;
  readonly #state: LinkStateFile;
  readonly #queue: UploadQueue;
  readonly #http: CentralHttp;
  readonly #log: LinkLog;
  readonly #centralDirectory: string;
  #verifier: CatalogueVerifier | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #uploadTimer: NodeJS.Timeout | undefined;
  #uploading = false;
  #stopped = false;

  /** `pinned`: the central host's addresses when the process may not look names up (the sealed uplink). */
  constructor(settings: CentralLinkSettings, installer: ModelInstaller, centralDirectory: string, log: LinkLog, pinned?: readonly PinnedAddress[]) {
    this.#settings = settings;
    this.#installer = installer;
    this.#centralDirectory = centralDirectory;
    this.#state = new LinkStateFile(centralDirectory);
    this.#queue = new UploadQueue(centralDirectory);
    this.#http = new CentralHttp(settings.url, settings.siteTokenFile, new TrafficCounter(centralDirectory), pinned);
    this.#log = log;
  }

  start(): void {
    void this.#pollLoop();
    this.#uploadTimer = setInterval(() => { void this.drainUploads(); }, UPLOAD_CHECK_MS);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    if (this.#uploadTimer !== undefined) clearInterval(this.#uploadTimer);
  }

  async #pollLoop(): Promise<void> {
    await this.pollOnce();
    if (!this.#stopped) this.#pollTimer = setTimeout(() => { void this.#pollLoop(); }, this.#settings.pollSeconds * 1000);
  }

  /**
   * One round: catalogue, then requests and progress. Errors are recorded,
   * never thrown. A refused package stays the last error until a later
   * catalogue is handled without refusal (a 304 round changes nothing, so it
   * keeps it); a failed poll is cleared by the next good one.
   */
  async pollOnce(): Promise<void> {
    let error: string | null = null;
    let refusal: string | null = null;
    let catalogueHandled = false;
    try {
      const round = await this.#pollCatalogue();
      catalogueHandled = round.handled;
      refusal = round.refusal;
    } catch (e) {
      error = message(e);
    }
    if (this.#settings.answerCategoryRequests) {
      try {
        await this.#pollRequests();
        await this.#postProgress();
      } catch (e) {
        error ??= message(e);
      }
    }
    if (error !== null) this.#log(`central link: ${error}`);
    this.#state.update((s) => {
      const lastError = error ?? refusal ?? (s.lastErrorIsRefusal && !catalogueHandled ? s.lastError : null);
      return { ...s, lastPollAt: new Date().toISOString(), lastError, lastErrorIsRefusal: error === null && lastError !== null };
    });
  }

  #registryVerifier(): CatalogueVerifier {
    if (this.#verifier !== undefined) return this.#verifier;
    let pem: string;
    try {
      pem = readFileSync(this.#settings.registryPublicKeyFile, 'utf8');
    } catch {
      throw new CentralLinkError('AIB_CENTRAL_CONFIG', `AiBridge.Central.RegistryPublicKeyFile ${this.#settings.registryPublicKeyFile} cannot be read`, { key: 'AiBridge.Central.RegistryPublicKeyFile' });
    }
    try {
      this.#verifier = new CatalogueVerifier(pem);
    } catch (e) {
      throw new CentralLinkError('AIB_CENTRAL_CONFIG', `AiBridge.Central.RegistryPublicKeyFile ${this.#settings.registryPublicKeyFile}: ${message(e)}`, { key: 'AiBridge.Central.RegistryPublicKeyFile' });
    }
    return this.#verifier;
  }

  /** handled: a new catalogue was read and dealt with; refusal: the last package it refused, if any. */
  async #pollCatalogue(): Promise<{ handled: boolean; refusal: string | null }> {
    const verifier = this.#registryVerifier();
    const before = this.#state.read();
    const response = await this.#http.request('GET', centralPaths.catalogue, before.etag === null ? {} : { headers: { 'if-none-match': before.etag } });
    if (response.status === 304) return { handled: false, refusal: null };
    if (response.status !== 200) {
      throw new CentralLinkError(isTransientStatus(response.status) ? 'AIB_CENTRAL_UNREACHABLE' : 'AIB_CENTRAL_REFUSED',
        `catalogue: ${centralReason(response)}`, { status: response.status }, isTransientStatus(response.status));
    }
    // A state written before catalogues carried issuedAt knows only the serial: it stays the floor.
    const previous = before.accepted ?? (before.catalogueSerial === null ? null : { serial: before.catalogueSerial, issuedAt: null, modelsSha256: null });
    const { catalogue, accepted } = verifier.verify(response.body, this.#settings.siteId, previous);
    this.#state.update((s) => ({ ...s, catalogueSerial: catalogue.serial, accepted, siteId: catalogue.siteId }));
    const { complete, refusal } = await this.#installNew(catalogue);
    // The ETag is kept only when every entry was dealt with: a download that failed for a transient reason is tried again next poll.
    if (complete) this.#state.update((s) => ({ ...s, etag: response.headers.get('etag') }));
    return { handled: complete, refusal };
  }

  async #installNew(catalogue: Catalogue): Promise<{ complete: boolean; refusal: string | null }> {
    let complete = true;
    let refusal: string | null = null;
    const entries = [...catalogue.models].sort((a, b) => a.id.localeCompare(b.id) || compareVersions(a.version, b.version));
    for (const entry of entries) {
      const versions = await this.#installer.versions(entry.id);
      if (versions.includes(entry.version)) continue;
      if (this.#state.read().refused.some((r) => r.id === entry.id && r.version === entry.version)) continue;
      const newest = versions.reduce<string | undefined>((a, v) => (a === undefined || compareVersions(v, a) > 0 ? v : a), undefined);
      if (newest !== undefined && compareVersions(entry.version, newest) < 0) {
        refusal = this.#refuse(entry, 'AIB_CENTRAL_PACKAGE_INVALID', `older than the installed ${newest}; not installed, so it cannot displace a newer version`);
        continue;
      }
      try {
        await this.#install(entry);
      } catch (e) {
        if (e instanceof AiBridgeError && e.transient) {
          complete = false;
          this.#log(`central link: package ${entry.id} ${entry.version} not fetched, tried again next poll: ${message(e)}`);
          continue;
        }
        refusal = this.#refuse(entry, e instanceof AiBridgeError ? e.code : 'AIB_CENTRAL_PACKAGE_INVALID', e instanceof Error ? e.message : String(e));
      }
    }
    return { complete, refusal };
  }

  async #install(entry: CatalogueEntry): Promise<void> {
    const stagingRoot = join(this.#centralDirectory, 'staging');
    mkdirSync(stagingRoot, { recursive: true, mode: 0o700 });
    const staging = mkdtempSync(join(stagingRoot, 'pkg-'));
    try {
      const author = await fetchPackage(this.#http, entry, staging);
      const { commissioningFraction } = await this.#installer.install(staging, { keyId: author.authorKeyId, publicKeyPem: author.authorKeyPem });
      this.#log(`central link: model ${entry.id} ${entry.version} installed and active (signed by ${author.authorKeyId}, commissioning ${String(Math.round(commissioningFraction * 100))}%)`);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  #refuse(entry: CatalogueEntry, code: string, reason: string): string {
    this.#log(`central link: model ${entry.id} ${entry.version} refused, the active version keeps serving: ${code}: ${reason}`);
    const refused: RefusedPackage = { id: entry.id, version: entry.version, code, reason, at: new Date().toISOString() };
    this.#state.update((s) => ({ ...s, refused: [...s.refused, refused].slice(-MAX_REFUSED_KEPT) }));
    return `${code}: ${reason}`;
  }

  async #pollRequests(): Promise<void> {
    const response = await this.#http.request('GET', centralPaths.requests);
    if (response.status !== 200) {
      throw new CentralLinkError(isTransientStatus(response.status) ? 'AIB_CENTRAL_UNREACHABLE' : 'AIB_CENTRAL_REFUSED',
        `category requests: ${centralReason(response)}`, { status: response.status }, isTransientStatus(response.status));
    }
    const listed = JSON.parse(response.body.toString('utf8')) as unknown;
    if (!Array.isArray(listed)) throw new CentralLinkError('AIB_CENTRAL_REFUSED', 'category requests: the answer is not a list');
    const open = (listed as CategoryRequest[]).filter((r) => typeof r.id === 'string' && r.state === 'open' &&
      typeof r.category.modality === 'string' && typeof r.category.bodyPart === 'string');
    this.#state.update((s) => {
      const requests: Record<string, RequestState> = {};
      for (const [id, r] of Object.entries(s.requests)) requests[id] = { ...r, open: open.some((o) => o.id === id) };
      for (const r of open) {
        requests[r.id] ??= {
          id: r.id, modality: r.category.modality.toUpperCase(), bodyPart: r.category.bodyPart.toUpperCase(), studiesPerSite: r.studiesPerSite,
          reason: r.reason, open: true, instancesUploaded: 0, studiesUploaded: 0, instancesRefused: 0, studyUids: [], postedProgress: null,
        };
      }
      return { ...s, requests };
    });
  }

  /** Posts this site's progress on each open request when it changed. */
  async #postProgress(): Promise<void> {
    const state = this.#state.read();
    for (const request of Object.values(state.requests)) {
      if (!request.open) continue;
      const progress = this.#progress(state, request);
      const key = JSON.stringify({ ...progress, updatedAt: undefined });
      if (key === request.postedProgress) continue;
      const response = await this.#http.request('POST', centralPaths.requestProgress(request.id), {
        body: JSON.stringify(progress), headers: { 'content-type': 'application/json' },
      });
      if (response.status >= 300) {
        throw new CentralLinkError(isTransientStatus(response.status) ? 'AIB_CENTRAL_UNREACHABLE' : 'AIB_CENTRAL_REFUSED',
          `progress of request ${request.id}: ${centralReason(response)}`, { requestId: request.id, status: response.status }, isTransientStatus(response.status));
      }
      this.#state.update((s) => {
        const current = s.requests[request.id];
        return current === undefined ? s : { ...s, requests: { ...s.requests, [request.id]: { ...current, postedProgress: key } } };
      });
    }
  }

  #progress(state: LinkState, request: RequestState): CategoryRequestProgress {
    const found = readJson<GatewayProgress>(gatewayProgressFile(this.#centralDirectory, request.id));
    const handled = request.instancesUploaded + request.instancesRefused;
    const pending = this.#queue.due(Number.MAX_SAFE_INTEGER).filter((o) => o.requestId === request.id).length;
    const reported = progressState(found, pending, handled);
    const detail = [found?.detail, request.instancesRefused > 0 ? `${String(request.instancesRefused)} instance(s) refused by the central server` : undefined]
      .filter((d): d is string => d !== undefined && d !== '').join('; ');
    return {
      siteId: state.siteId ?? this.#settings.siteId, studiesFound: found?.studiesFound ?? 0, studiesUploaded: request.studiesUploaded,
      instancesUploaded: request.instancesUploaded, state: reported, ...(detail === '' ? {} : { detail }), updatedAt: new Date().toISOString(),
    };
  }

  /** Uploads every due order; one pass at a time. */
  async drainUploads(): Promise<void> {
    if (this.#uploading) return;
    this.#uploading = true;
    try {
      for (const order of this.#queue.due(Date.now())) {
        if (this.#stopped) return;
        await this.#upload(order);
      }
    } finally {
      this.#uploading = false;
    }
  }

  async #upload(order: StoredOrder): Promise<void> {
    let bytes: Buffer;
    let studyUid: string;
    try {
      const path = this.#queue.copyOf(order);
      bytes = readFileSync(path);
      studyUid = order.kind === 'report' ? order.studyInstanceUid ?? '' : readDeidHeader(path).studyInstanceUid;
    } catch (e) {
      this.#refuseUpload(order, `the de-identified copy ${order.deidPath} cannot be read: ${message(e)}`);
      return;
    }
    let status: number;
    let reason: string;
    try {
      const requestHeader = order.requestId === undefined ? {} : { [CATEGORY_REQUEST_HEADER]: order.requestId };
      // A study's report is its own typed part of the study's upload (issue 16), replaced by a correction: PUT, text/plain.
      const response = order.kind === 'report'
        ? await this.#http.request('PUT', centralPaths.studyReport(studyUid), { body: bytes, headers: { 'content-type': 'text/plain; charset=utf-8', ...requestHeader } })
        : await this.#http.request('POST', centralPaths.uploads, { body: bytes, headers: { 'content-type': 'application/dicom', ...requestHeader } });
      status = response.status;
      reason = status < 300 ? '' : centralReason(response);
    } catch (e) {
      if (!(e instanceof AiBridgeError) || !e.transient) {
        this.#refuseUpload(order, message(e));
        return;
      }
      status = 0;
      reason = message(e);
    }
    if (status >= 200 && status < 300 && order.kind === 'report') {
      this.#queue.done(order);
      this.#state.update((s) => ({ ...s, uploads: { ...s.uploads, reports: (s.uploads.reports ?? 0) + 1 } }));
      return;
    }
    if (status >= 200 && status < 300) {
      this.#queue.done(order);
      this.#state.update((s) => {
        const uploads = { ...s.uploads, uploaded: s.uploads.uploaded + 1 };
        const request = order.requestId === undefined ? undefined : s.requests[order.requestId];
        if (request === undefined) return { ...s, uploads };
        const studyUids = request.studyUids.includes(studyUid) ? request.studyUids : [...request.studyUids, studyUid];
        return {
          ...s, uploads,
          requests: { ...s.requests, [request.id]: { ...request, instancesUploaded: request.instancesUploaded + 1, studyUids, studiesUploaded: studyUids.length } },
        };
      });
      return;
    }
    if (status !== 0 && !isTransientStatus(status)) {
      this.#refuseUpload(order, reason);
      return;
    }
    if (order.attempts + 1 >= this.#settings.uploadAttempts) {
      this.#refuseUpload(order, `gave up after ${String(order.attempts + 1)} attempts: ${reason}`);
      return;
    }
    const delay = Math.min(1000 * 2 ** order.attempts, MAX_UPLOAD_BACKOFF_MS);
    this.#queue.retryLater(order, Date.now() + delay, reason);
  }

  #refuseUpload(order: StoredOrder, reason: string): void {
    this.#log(`central link: upload of ${order.deidPath}${order.requestId === undefined ? '' : ` (request ${order.requestId})`} refused, not retried: ${reason}`);
    this.#queue.refuse(order, reason);
    this.#state.update((s) => {
      const uploads = { ...s.uploads, refused: s.uploads.refused + 1, lastError: reason };
      const request = order.requestId === undefined ? undefined : s.requests[order.requestId];
      // A refused report is no refused instance of the request.
      if (request === undefined || order.kind === 'report') return { ...s, uploads };
      return { ...s, uploads, requests: { ...s.requests, [request.id]: { ...request, instancesRefused: request.instancesRefused + 1 } } };
    });
  }
}
