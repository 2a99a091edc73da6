/**
 * Answers the central server's requests for studies of a new scan category
 * (claims 7, 15) on the PHI side, under the site's control. It learns the
 * open requests from the annotator (the only part that talks to the central
 * server) and records each one awaiting an administrator's approval (or
 * declined at once when outside CategoryRequestLimits). Only an approved
 * request is searched, for at most the studies granted and what the month
 * has left: the PACS (QIDO-RS, and C-FIND/C-MOVE when a DIMSE peer is
 * configured) is asked for the exact category, every match is checked again
 * (exact Modality and Body Part Examined) before anything is moved, and puts
 * every instance of the matching series through the ordinary job pipeline
 * (jobs tagged with the request id; the same sealed de-identification), and
 * hands each de-identified copy (a path inside deid/) to the annotator for
 * upload. What it tells the annotator is counts, never an identifier.
 */
import { orthancInstanceId } from '../../core/branded-ids';
import { AiBridgeError } from '../../core/ai-bridge-error';
import { errorFields } from '../../core/log-event';
import type { OrthancRest } from '../../sdk';
import type { AnnotatorPool } from '../annotation/annotator-pool';
import type { CategoryRequestLimits, DimsePeerConfig } from '../config-loader';
import type { InstanceJobs } from '../instance-jobs';
import type { Logger } from '../logger';
import type { CategoryRequestStore, StoredCategoryRequest } from './category-request-store';
import { monthStart, policyRefusal, studiesAllowed } from './category-request-policy';
import { cfindSeries, cmoveSeries, isExactMatch, qidoSeries, type SeriesMatch } from './pacs-search';

export interface CategorySearchOptions {
  readonly pollMs: number;
  /** QIDO-RS base and its Authorization (this Orthanc's DICOMweb by default). */
  readonly dicomWeb: { readonly url: string; readonly authorization?: string };
  readonly dimsePeer?: DimsePeerConfig;
  readonly limits: CategoryRequestLimits;
  /** This gateway's lease owner: an approved request is searched by the one node that claims it. */
  readonly owner: string;
  /** Lease of a search (QIDO-RS, C-FIND and C-MOVE of whole series take a while). */
  readonly searchLeaseMs: number;
}

function errorText(error: unknown): string {
  if (error instanceof AiBridgeError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export class CategoryRequestWorker {
  readonly #options: CategorySearchOptions;
  readonly #annotator: AnnotatorPool;
  readonly #requests: CategoryRequestStore;
  readonly #jobs: InstanceJobs;
  readonly #orthanc: OrthancRest;
  readonly #log: Logger;
  readonly #onJobsQueued: () => void;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;

  constructor(options: CategorySearchOptions, annotator: AnnotatorPool, requests: CategoryRequestStore, jobs: InstanceJobs,
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
        const asked = { id: r.id, modality: r.modality, bodyPart: r.bodyPart, studiesWanted: r.studiesPerSite, reason: r.reason, open: r.open };
        await this.#requests.upsert(asked, policyRefusal(asked, this.#options.limits));
      }
      // Approved requests due for their search (a failed one after the retry policy's backoff), each claimed by one node.
      for (let claimed = await this.#requests.claimSearch(this.#options.owner, this.#options.searchLeaseMs); claimed !== undefined;
        claimed = await this.#requests.claimSearch(this.#options.owner, this.#options.searchLeaseMs)) {
        await this.#search(claimed.itemId, claimed.request);
      }
      for (const request of await this.#requests.list()) {
        if (!request.open) continue;
        if (request.state === 'awaiting-approval' || request.state === 'declined') {
          await this.#reportDecision(request);
          continue;
        }
        if (request.state === 'uploading' || request.state === 'done') await this.#handOver(request.id);
      }
    } catch (error) {
      this.#log.warn('category-requests-failed', { stage: 'category-requests', ...errorFields(error), message: `category requests: ${errorText(error)}` });
    } finally {
      this.#running = false;
    }
  }

  /**
   * Before a search the central server hears only that the site has not
   * decided, or that it said no: the limits' reason (generated text about the
   * category and counts), never the administrator's own words, which stay at
   * the site (they are typed freely and could name anyone).
   */
  async #reportDecision(request: StoredCategoryRequest): Promise<void> {
    const declined = request.state === 'declined';
    await this.#annotator.reportProgress({
      requestId: request.id, studiesFound: 0, instancesQueued: 0, searchComplete: false, failed: false,
      decision: declined ? 'declined' : 'awaiting-approval',
      ...(declined ? { detail: request.decision?.by === 'policy' ? `refused by the site's limits: ${request.decision.reason ?? ''}` : 'declined by the site\'s administrator' } : {}),
    });
  }

  async #search(itemId: number, request: StoredCategoryRequest): Promise<void> {
    const owner = this.#options.owner;
    const query = { modality: request.modality, bodyPart: request.bodyPart };
    // Checked again at search time: the configuration may have changed since the approval.
    const refusal = request.open ? policyRefusal(request, this.#options.limits) : 'closed by the central server before its search';
    const wanted = studiesAllowed(request.decision?.studiesGranted ?? request.studiesWanted, this.#options.limits,
      await this.#requests.studiesSearchedSince(monthStart(Date.now())));
    if (refusal !== null || wanted === 0) {
      await this.#requests.refuse(itemId, owner, refusal ?? `AiBridge.Central.CategoryRequestLimits.StudiesPerMonth (${String(this.#options.limits.StudiesPerMonth)}) is used up this month`);
      return;
    }
    try {
      const sources: string[] = ['dicomweb'];
      const local = await qidoSeries(this.#options.dicomWeb.url, this.#options.dicomWeb.authorization, query);
      let matches = limitStudies(local, wanted);
      const peer = this.#options.dimsePeer;
      if (peer !== undefined && studyCount(matches) < wanted) {
        sources.push('dimse');
        const known = new Set(matches.map((m) => m.seriesInstanceUid));
        const remote = limitStudies((await cfindSeries(peer, query)).filter((m) => !known.has(m.seriesInstanceUid)),
          wanted - studyCount(matches), new Set(matches.map((m) => m.studyInstanceUid)));
        const destination = peer.MoveDestination !== '' ? peer.MoveDestination : (await this.#orthanc.system()).DicomAet;
        for (const match of remote) await cmoveSeries(peer, destination, match);
        matches = [...matches, ...remote];
      }
      const instanceIds: string[] = [];
      for (const match of matches) instanceIds.push(...await this.#seriesInstances(match, query));
      let created = 0;
      for (const id of instanceIds) if ((await this.#jobs.tagForRequest(orthancInstanceId(id), request.id)).created) created++;
      await this.#requests.searched(itemId, owner, instanceIds, { sources, studiesFound: studyCount(matches) });
      this.#log.info('category-request-searched', { stage: 'category-requests', categoryRequest: request.id, count: created,
        message: `category request ${request.id} (${request.modality}/${request.bodyPart}): ${studyCount(matches)} studies, ${instanceIds.length} instances (${created} new jobs) via ${sources.join(' + ')}` });
      if (created > 0) this.#onJobsQueued();
    } catch (error) {
      // Searched again after the retry policy's backoff (still approved): a PACS that was down is not a reason to give up at once.
      await this.#requests.searchFailed(itemId, owner, error instanceof AiBridgeError ? error.code : 'AIB_CATEGORY_SEARCH_FAILED', errorText(error));
      this.#log.warn('category-request-search-failed', { stage: 'category-requests', categoryRequest: request.id, ...errorFields(error),
        message: `category request ${request.id}: search failed, tried again later: ${errorText(error)}` });
    }
  }

  /**
   * Orthanc's instance ids of one series (it is in this Orthanc: found there,
   * or moved there), none when Orthanc's own record of the series is not
   * exactly the category: a PACS may answer or move more than was asked.
   */
  async #seriesInstances(match: SeriesMatch, query: { modality: string; bodyPart: string }): Promise<string[]> {
    const hits = await this.#orthanc.postJson('/tools/lookup', match.seriesInstanceUid);
    const series = Array.isArray(hits) ? (hits as { ID?: unknown; Type?: unknown }[]).find((h) => h.Type === 'Series') : undefined;
    if (series === undefined || typeof series.ID !== 'string') return [];
    const detail = await this.#orthanc.getJson(`/series/${series.ID}`) as { Instances?: unknown; MainDicomTags?: Record<string, unknown> };
    if (!isExactMatch(detail.MainDicomTags?.['Modality'], detail.MainDicomTags?.['BodyPartExamined'], query)) {
      this.#log.warn('category-request-series-skipped', { stage: 'category-requests',
        message: `category request: series ${series.ID} in Orthanc is not exactly ${query.modality}/${query.bodyPart}; not used` });
      return [];
    }
    return Array.isArray(detail.Instances) ? detail.Instances.filter((i): i is string => typeof i === 'string') : [];
  }

  /** Hands each de-identified member to the annotator once, then reports counts. */
  async #handOver(requestId: string): Promise<void> {
    const request = await this.#requests.get(requestId);
    if (request === undefined) return;
    const members = await this.#requests.members(requestId);
    for (const member of members) {
      if (member.sent || member.jobState !== 'done' || member.deidPath === null) continue;
      await this.#annotator.queueUpload(member.deidPath, requestId);
      await this.#requests.markSent(requestId, member.instanceId);
    }
    const after = await this.#requests.members(requestId);
    const sent = after.filter((m) => m.sent).length;
    const failed = after.filter((m) => !m.sent && (m.jobState === 'quarantined' || (m.jobState === 'done' && m.deidPath === null))).length;
    const complete = sent + failed === after.length;
    if (complete && request.state !== 'done') await this.#requests.handedOver(requestId);
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
