import type { OrthancRest } from '../../sdk';
import type { Logger } from '../logger';
import type { AnnotationStore } from './annotation-store';

/** Stable series remembered for members that arrive late. */
const MAX_REMEMBERED = 10_000;

/**
 * Decides when a series is complete for its annotations, without waiting
 * longer than it must: the header count releases a series as soon as its
 * last instance is de-identified (AnnotationStore.enrol); otherwise Orthanc's
 * StableSeries gives the count; a series short of its count (an instance
 * quarantined or never sent) goes after `quietMs` without a new instance.
 * Every release kicks the annotation pipeline.
 */
export class SeriesWatch {
  readonly #orthanc: OrthancRest;
  readonly #store: AnnotationStore;
  readonly #log: Logger;
  readonly #quietMs: number;
  readonly #onRelease: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** Series Orthanc reported stable, newest last (bounded): a member de-identified after the report re-checks its series. */
  readonly #reportedStable = new Set<string>();

  constructor(orthanc: OrthancRest, store: AnnotationStore, quietMs: number, log: Logger, onRelease: () => void) {
    this.#orthanc = orthanc;
    this.#store = store;
    this.#quietMs = quietMs;
    this.#log = log;
    this.#onRelease = onRelease;
  }

  start(): void {
    const tick = (): void => {
      void this.sweep().finally(() => {
        this.#timer = setTimeout(tick, Math.min(this.#quietMs, 60_000) / 2);
        this.#timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** StableSeries changes from Orthanc's change log. */
  async stable(orthancSeriesIds: readonly string[]): Promise<void> {
    for (const id of new Set(orthancSeriesIds)) {
      this.#remember(id);
      const count = await this.#instanceCount(id);
      if (count === undefined) continue;
      if (this.#store.seriesStable(id, count).length > 0) this.#onRelease();
    }
  }

  /**
   * A series annotation took a member. When Orthanc already called the series
   * stable (StableSeries can come before the last instances are de-identified,
   * e.g. while the workers start), its count is applied now instead of after
   * the quiet period.
   */
  collecting(orthancSeriesId: string): void {
    if (this.#reportedStable.has(orthancSeriesId)) void this.stable([orthancSeriesId]);
  }

  #remember(orthancSeriesId: string): void {
    this.#reportedStable.delete(orthancSeriesId);
    this.#reportedStable.add(orthancSeriesId);
    if (this.#reportedStable.size > MAX_REMEMBERED) {
      const oldest = this.#reportedStable.values().next().value;
      if (oldest !== undefined) this.#reportedStable.delete(oldest);
    }
  }

  /** The safety net: quiet series with a count, and quiet series whose StableSeries we may have missed. */
  async sweep(): Promise<void> {
    try {
      if (this.#store.releaseQuiet(this.#quietMs).length > 0) this.#onRelease();
      for (const annotation of this.#store.quietWithoutCount(this.#quietMs)) {
        const series = await this.#orthanc.getJson(`/series/${annotation.orthancSeriesId}`);
        if (typeof series !== 'object' || series === null || (series as Record<string, unknown>)['IsStable'] !== true) continue;
        await this.stable([annotation.orthancSeriesId]);
      }
    } catch (error) {
      this.#log.warn(`checking series completeness failed: ${error instanceof Error ? error.message : String(error)}`);
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
