import type { OrthancRest } from '../../sdk';
import { GatewayError } from '../gateway-errors';
import type { Annotation, AnnotationStore } from './annotation-store';

/**
 * Removes a series' earlier results from Orthanc once its corrected results
 * are stored, so the study never shows two versions side by side (issue 14).
 * Called only after the STOW-RS of the new ones succeeded: a failure in between
 * leaves the earlier results, never none. An endpoint other than this Orthanc
 * (DicomWebUrl) cannot be asked to delete through STOW-RS: the event names the
 * earlier UIDs for its administrator.
 */
export class SupersededResults {
  readonly #orthanc: OrthancRest;
  readonly #store: AnnotationStore;
  readonly #externalEndpoint: string | undefined;

  /** `externalEndpoint`: where results go when it is not this Orthanc (named in the event). */
  constructor(orthanc: OrthancRest, store: AnnotationStore, externalEndpoint: string | undefined) {
    this.#orthanc = orthanc;
    this.#store = store;
    this.#externalEndpoint = externalEndpoint;
  }

  async remove(annotation: Annotation, sopInstanceUids: readonly string[]): Promise<void> {
    if (sopInstanceUids.length === 0) return;
    let removed = 0;
    for (const uid of sopInstanceUids) {
      try {
        const hits = await this.#orthanc.postJson('/tools/lookup', uid);
        const instance = Array.isArray(hits)
          ? hits.find((h): h is { ID: string } => typeof h === 'object' && h !== null && (h as Record<string, unknown>)['Type'] === 'Instance' &&
            typeof (h as Record<string, unknown>)['ID'] === 'string')
          : undefined;
        // Already gone (an earlier attempt, or an administrator): nothing to do.
        if (instance === undefined) continue;
        await this.#orthanc.delete(`/instances/${instance.ID}`);
        removed++;
      } catch (error) {
        throw new GatewayError('AIB_RESULT_SUPERSEDE_FAILED',
          `annotation ${annotation.id}: the earlier result ${uid} could not be removed from Orthanc: ${error instanceof Error ? error.message : String(error)}`,
          { annotationId: annotation.id, sopInstanceUid: uid }, true);
      }
    }
    const elsewhere = this.#externalEndpoint === undefined ? '' : `; ${this.#externalEndpoint} keeps its copies (STOW-RS cannot delete)`;
    await this.#store.recordSuperseded(annotation.id, sopInstanceUids, removed, elsewhere);
  }
}
