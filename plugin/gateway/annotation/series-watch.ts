import { LRUCache } from 'lru-cache';

import { errorFields } from '../../core/log-event';
import type { OrthancRest } from '../../sdk';
import type { Logger } from '../logger';
import type { AnnotationStore } from './annotation-store';
import { judgeSeries, type SeriesPolicy } from './series-evidence';

/** Stable series remembered for members that arrive late. */
const MAX_REMEMBERED = 10_000;

/**
 * Decides when a series is complete for its annotations, without waiting
 * longer than it must: the header count releases a series as soon as its
 * last instance is de-identified (AnnotationStore.enrol); a series of unknown
 * size goes when its slices close a volume and the sender has gone quiet for
 * a multiple of its cadence (series-evidence.ts) and Orthanc holds no slice of
 * it that is not in yet; Orthanc's StableSeries stays the fallback when the
 * evidence says nothing (no geometry, holes, a first slice missing), applied
 * also to a member de-identified after its series was reported stable; a series
 * short of its count (an instance quarantined or never sent) goes after
 * `quietMs` without a new instance. Every release kicks the annotation pipeline.
 */
export class SeriesWatch {
  readonly #orthanc: OrthancRest;
  readonly #store: AnnotationStore;
  readonly #log: Logger;
  readonly #quietMs: number;
  /** Undefined: SeriesEvidence is off, StableSeries alone releases series of unknown size. */
  readonly #policy: SeriesPolicy | undefined;
  readonly #onRelease: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** Series Orthanc reported stable, the least recent forgotten first: a member de-identified after the report re-checks its series. */
  readonly #reportedStable = new LRUCache<string, true>({ max: MAX_REMEMBERED });
  /** One timer per series that will count as complete if nothing arrives before it fires. */
  readonly #due = new Map<number, NodeJS.Timeout>();
  #stopped = false;

  constructor(orthanc: OrthancRest, store: AnnotationStore, quietMs: number, policy: SeriesPolicy | undefined, log: Logger, onRelease: () => void) {
    this.#orthanc = orthanc;
    this.#store = store;
    this.#quietMs = quietMs;
    this.#policy = policy;
    this.#log = log;
    this.#onRelease = onRelease;
  }

  start(): void {
    const tick = (): void => {
      void this.sweep().finally(() => {
        if (this.#stopped) return;
        this.#timer = setTimeout(tick, Math.min(this.#quietMs, 60_000) / 2);
        this.#timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const timer of this.#due.values()) clearTimeout(timer);
    this.#due.clear();
  }

  /**
   * A member that arrived at `arrivedAt` joined a series annotation that is
   * still collecting. When Orthanc already called the series stable
   * (StableSeries can come before the last instances are de-identified, e.g.
   * while the workers start), its count is applied now instead of after the
   * quiet period. No series is complete on its evidence before its last
   * arrival plus the shortest quiet period, so that judgement (which reads
   * every member) waits until then: a series of n slices is judged about
   * once, not n times.
   */
  collecting(annotation: { readonly id: number; readonly orthancSeriesId: string }, arrivedAt: number): void {
    if (this.#stopped) return;
    if (this.#reportedStable.has(annotation.orthancSeriesId)) void this.stable([annotation.orthancSeriesId]);
    if (this.#policy !== undefined) this.#judgeAt(annotation.id, arrivedAt + this.#policy.minQuietMs);
  }

  #remember(orthancSeriesId: string): void {
    this.#reportedStable.set(orthancSeriesId, true);
  }

  /** Every collecting series of unknown size, judged again (after a run ends: it may have re-opened one; at start-up). */
  async reconsider(): Promise<void> {
    if (this.#policy === undefined) return;
    try {
      for (const id of await this.#store.collectingWithoutCount()) await this.#consider(id);
    } catch (error) {
      this.#log.warn('series-check-failed', { stage: 'series-watch', ...errorFields(error), message: `judging collecting series failed: ${errorFields(error).message}` });
    }
  }

  /** StableSeries changes from Orthanc's change log. */
  async stable(orthancSeriesIds: readonly string[]): Promise<void> {
    try {
      for (const id of new Set(orthancSeriesIds)) {
        this.#remember(id);
        const count = await this.#instanceCount(id);
        if (count === undefined) continue;
        if ((await this.#store.seriesStable(id, count)).length > 0) this.#onRelease();
      }
    } catch (error) {
      this.#log.warn('series-check-failed', { stage: 'series-watch', ...errorFields(error), message: `applying Orthanc's StableSeries failed: ${errorFields(error).message}` });
    }
  }

  /** The safety net: quiet series with a count, quiet series whose StableSeries we may have missed, timers lost to a restart. */
  async sweep(): Promise<void> {
    try {
      await this.reconsider();
      if ((await this.#store.releaseQuiet(this.#quietMs)).length > 0) this.#onRelease();
      for (const annotation of await this.#store.quietWithoutCount(this.#quietMs)) {
        const series = await this.#orthanc.getJson(`/series/${annotation.orthancSeriesId}`);
        if (typeof series !== 'object' || series === null || (series as Record<string, unknown>)['IsStable'] !== true) continue;
        await this.stable([annotation.orthancSeriesId]);
      }
    } catch (error) {
      this.#log.warn('series-check-failed', { stage: 'series-watch', ...errorFields(error), message: `checking series completeness failed: ${errorFields(error).message}` });
    }
  }

  async #consider(id: number): Promise<void> {
    const policy = this.#policy;
    if (policy === undefined || this.#stopped) return;
    const pending = this.#due.get(id);
    if (pending !== undefined) clearTimeout(pending);
    this.#due.delete(id);
    const evidence = await this.#store.seriesEvidence(id);
    if (evidence === undefined) return;
    const verdict = judgeSeries(evidence.members, Date.now(), policy);
    if (verdict.complete) {
      void this.#release(id, evidence.annotation.orthancSeriesId, evidence.members.length, verdict.detail);
    } else if (verdict.at !== undefined) {
      this.#judgeAt(id, verdict.at);
    }
  }

  #judgeAt(id: number, at: number): void {
    const pending = this.#due.get(id);
    if (pending !== undefined) clearTimeout(pending);
    const timer = setTimeout(() => {
      this.#due.delete(id);
      this.#consider(id).catch((error: unknown) => {
        this.#log.warn('series-check-failed', { stage: 'series-watch', annotation: id, ...errorFields(error), message: `annotation ${id}: judging its series failed: ${errorFields(error).message}` });
      });
    }, Math.max(0, at - Date.now()));
    timer.unref();
    this.#due.set(id, timer);
  }

  async #release(id: number, orthancSeriesId: string, members: number, detail: string): Promise<void> {
    try {
      // A slice Orthanc holds but the bridge has not enrolled yet (being de-identified) reopens the judgement when it enrols.
      const stored = await this.#instanceCount(orthancSeriesId);
      if (stored !== undefined && stored > members) return;
      if (await this.#store.releaseOnEvidence(id, members, detail)) this.#onRelease();
    } catch (error) {
      this.#log.warn('series-release-failed', { stage: 'series-watch', annotation: id, ...errorFields(error),
        message: `annotation ${id}: releasing a complete series failed: ${errorFields(error).message}` });
    }
  }

  async #instanceCount(orthancSeriesId: string): Promise<number | undefined> {
    try {
      const series = await this.#orthanc.getJson(`/series/${orthancSeriesId}`);
      const instances = typeof series === 'object' && series !== null ? (series as Record<string, unknown>)['Instances'] : undefined;
      return Array.isArray(instances) ? instances.length : undefined;
    } catch {
      // Deleted meanwhile: nothing to wait for; the quiet sweep releases what arrived.
      return undefined;
    }
  }
}
