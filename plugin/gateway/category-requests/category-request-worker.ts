/**
 * Answers the central server's requests for studies of a new scan category
 * (claims 7, 15) on the PHI side. It learns the open requests from the
 * annotator (the only part that talks to the central server), searches the
 * PACS (QIDO-RS, and C-FIND/C-MOVE when a DIMSE peer is configured), puts
 * every instance of the matching series through the ordinary job pipeline
 * (jobs tagged with the request id; the same sealed de-identification), and
 * hands each de-identified copy (a path inside deid/) to the annotator for
 * upload. What it tells the annotator is counts, never an identifier.
 */
import { orthancInstanceId } from '../../core/branded-ids';
import { AiBridgeError } from '../../core/ai-bridge-error';
import type { OrthancRest } from '../../sdk';
import type { AnnotatorPool } from '../annotation/annotator-pool';
import type { DimsePeerConfig } from '../config-loader';
import type { JobStore } from '../job';
import type { Logger } from '../logger';
import type { CategoryRequestStore, StoredCategoryRequest } from './category-request-store';
import { cfindSeries, cmoveSeries, qidoSeries, type SeriesMatch } from './pacs-search';

export interface CategorySearchOptions {
  readonly pollMs: number;
  /** QIDO-RS base and its Authorization (this Orthanc's DICOMweb by default). */
  readonly dicomWeb: { readonly url: string; readonly authorization?: string };
  readonly dimsePeer?: DimsePeerConfig;
}

function errorText(error: unknown): string {
  if (error instanceof AiBridgeError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export class CategoryRequestWorker {
  readonly #options: CategorySearchOptions;
  readonly #annotator: AnnotatorPool;
  readonly #requests: CategoryRequestStore;
  readonly #jobs: JobStore;
  readonly #orthanc: OrthancRest;
  readonly #log: Logger;
  readonly #onJobsQueued: () => void;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;

  constructor(options: CategorySearchOptions, annotator: AnnotatorPool, requests: CategoryRequestStore, jobs: JobStore,
    orthanc: OrthancRest, log: Logger, onJobsQueued: () => void) {
    this.#options = options;
    this.#annotator = annotator;
    this.#requests = requests;
    this.#jobs = jobs;
    this.#orthanc = orthanc;
    this.#log = log;
    this.#onJobsQueued = onJobsQueued;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => { void this.tick().finally(() => { this.#schedule(); }); }, this.#options.pollMs);
  }

  async tick(): Promise<void> {
    if (this.#running || this.#annotator.readyCount === 0) return;
    this.#running = true;
    try {
      const status = await this.#annotator.centralStatus();
      for (const r of status.requests) {
        this.#requests.upsert({ id: r.id, modality: r.modality, bodyPart: r.bodyPart, studiesWanted: r.studiesPerSite, reason: r.reason, open: r.open });
      }
      for (const request of this.#requests.list()) {
        if (!request.open) continue;
        if (request.state === 'pending') await this.#search(request);
        if (request.state === 'pending' || request.state === 'failed') continue;
        await this.#handOver(request.id);
      }
    } catch (error) {
      this.#log.warn(`category requests: ${errorText(error)}`);
    } finally {
      this.#running = false;
    }
  }

  async #search(request: StoredCategoryRequest): Promise<void> {
    const query = { modality: request.modality, bodyPart: request.bodyPart };
    this.#requests.setState(request.id, 'searching');
    try {
      const sources: string[] = ['dicomweb'];
      const local = await qidoSeries(this.#options.dicomWeb.url, this.#options.dicomWeb.authorization, query);
      let matches = limitStudies(local, request.studiesWanted);
      const peer = this.#options.dimsePeer;
      if (peer !== undefined && studyCount(matches) < request.studiesWanted) {
        sources.push('dimse');
        const known = new Set(matches.map((m) => m.seriesInstanceUid));
        const remote = limitStudies((await cfindSeries(peer, query)).filter((m) => !known.has(m.seriesInstanceUid)),
          request.studiesWanted - studyCount(matches), new Set(matches.map((m) => m.studyInstanceUid)));
        const destination = peer.MoveDestination !== '' ? peer.MoveDestination : (await this.#orthanc.system()).DicomAet;
        for (const match of remote) await cmoveSeries(peer, destination, match);
        matches = [...matches, ...remote];
      }
      const instanceIds: string[] = [];
      for (const match of matches) instanceIds.push(...await this.#seriesInstances(match));
      this.#requests.addMembers(request.id, instanceIds);
      let created = 0;
      for (const id of instanceIds) if (this.#jobs.tagForRequest(orthancInstanceId(id), request.id).created) created++;
      this.#requests.setState(request.id, 'uploading', { sources, studiesFound: studyCount(matches), error: null });
      this.#log.info(`category request ${request.id} (${request.modality}/${request.bodyPart}): ${studyCount(matches)} studies, ${instanceIds.length} instances (${created} new jobs) via ${sources.join(' + ')}`);
      if (created > 0) this.#onJobsQueued();
    } catch (error) {
      // Searched again next poll: a PACS that was down is not a reason to give up.
      this.#requests.setState(request.id, 'pending', { error: errorText(error) });
      this.#log.warn(`category request ${request.id}: search failed, tried again next poll: ${errorText(error)}`);
    }
  }

  /** Orthanc's instance ids of one series (it is in this Orthanc: found there, or moved there). */
  async #seriesInstances(match: SeriesMatch): Promise<string[]> {
    const hits = await this.#orthanc.postJson('/tools/lookup', match.seriesInstanceUid);
    const series = Array.isArray(hits) ? (hits as { ID?: unknown; Type?: unknown }[]).find((h) => h.Type === 'Series') : undefined;
    if (series === undefined || typeof series.ID !== 'string') return [];
    const detail = await this.#orthanc.getJson(`/series/${series.ID}`) as { Instances?: unknown };
    return Array.isArray(detail.Instances) ? detail.Instances.filter((i): i is string => typeof i === 'string') : [];
  }

  /** Hands each de-identified member to the annotator once, then reports counts. */
  async #handOver(requestId: string): Promise<void> {
    const request = this.#requests.list().find((r) => r.id === requestId);
    if (request === undefined) return;
    const members = this.#requests.members(requestId);
    for (const member of members) {
      if (member.sent || member.jobState !== 'done' || member.deidPath === null) continue;
      await this.#annotator.queueUpload(member.deidPath, requestId);
      this.#requests.markSent(requestId, member.instanceId);
    }
    const after = this.#requests.members(requestId);
    const sent = after.filter((m) => m.sent).length;
    const failed = after.filter((m) => !m.sent && (m.jobState === 'quarantined' || (m.jobState === 'done' && m.deidPath === null))).length;
    const complete = sent + failed === after.length;
    if (complete && request.state !== 'done') this.#requests.setState(requestId, 'done');
    await this.#annotator.reportProgress({
      requestId, studiesFound: request.studiesFound, instancesQueued: sent, searchComplete: complete, failed: false,
      ...(failed > 0 ? { detail: `${String(failed)} instance(s) could not be de-identified at the site` } : {}),
    });
  }
}

function studyCount(matches: readonly SeriesMatch[]): number {
  return new Set(matches.map((m) => m.studyInstanceUid)).size;
}

/** The series of the first `studies` studies (in the order found), skipping studies already taken. */
function limitStudies(matches: readonly SeriesMatch[], studies: number, taken: ReadonlySet<string> = new Set()): SeriesMatch[] {
  const kept = new Set<string>();
  return matches.filter((m) => {
    if (taken.has(m.studyInstanceUid)) return false;
    if (!kept.has(m.studyInstanceUid)) {
      if (kept.size >= studies) return false;
      kept.add(m.studyInstanceUid);
    }
    return true;
  });
}
