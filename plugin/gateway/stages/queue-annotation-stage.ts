import type { AnnotationStore } from '../annotation/annotation-store';
import type { AnnotatorPool } from '../annotation/annotator-pool';
import { GatewayError } from '../gateway-errors';
import type { Job } from '../job';
import type { OrthancRest } from '../../sdk';
import type { JobWork, Stage, StageResult } from './stage';

/**
 * Asks the annotator which model serves the de-identified copy's scan
 * category and enrols the copy in that model's annotation: its own (unit
 * 'instance'), or its series' (unit 'series', due when the series is
 * complete). No model for the category is an outcome, not an error.
 */
export class QueueAnnotationStage implements Stage {
  readonly name = 'queue-annotation';
  readonly #orthanc: OrthancRest;
  readonly #annotator: AnnotatorPool;
  readonly #annotations: AnnotationStore;
  readonly #onDue: () => void;

  constructor(orthanc: OrthancRest, annotator: AnnotatorPool, annotations: AnnotationStore, onDue: () => void) {
    this.#orthanc = orthanc;
    this.#annotator = annotator;
    this.#annotations = annotations;
    this.#onDue = onDue;
  }

  async run(job: Job, work: JobWork): Promise<StageResult> {
    const deid = work.deid;
    const header = work.header;
    if (deid === undefined || header === undefined) {
      throw new Error(`instance ${job.instanceId}: the de-identify stage left no copy to annotate`);
    }
    const classified = await this.#annotator.classify(deid.path);
    const category = `${classified.category.modality || '?'}/${classified.category.bodyPart || 'unspecified body part'}`;
    if (classified.model === undefined) return { outcome: `de-identified; no applicable model for ${category}` };
    const parent = await this.#orthanc.getJson(`/instances/${job.instanceId}`);
    const seriesId = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)['ParentSeries'] : undefined;
    if (typeof seriesId !== 'string') {
      throw new GatewayError('AIB_INGEST_UNREADABLE', `instance ${job.instanceId}: Orthanc names no parent series`, { instanceId: job.instanceId }, true);
    }
    const { annotation, due } = this.#annotations.enrol({
      unit: classified.model.unit,
      studyInstanceUid: header.studyInstanceUid,
      seriesInstanceUid: header.seriesInstanceUid,
      sopInstanceUid: header.sopInstanceUid,
      orthancSeriesId: seriesId,
      model: { id: classified.model.id, version: classified.model.version },
      expectedInstances: classified.expectedInstances,
      member: { jobId: job.id, linkToken: deid.linkToken, deidPath: deid.path },
    });
    if (due) this.#onDue();
    const model = `${classified.model.id}@${classified.model.version}`;
    if (annotation.unit === 'instance') return { outcome: `de-identified; annotation ${annotation.id} by ${model} queued` };
    const count = annotation.expectedInstances === null ? `${annotation.members} in, series size not known yet` : `${annotation.members}/${annotation.expectedInstances}`;
    return { outcome: `de-identified; series annotation ${annotation.id} by ${model} ${due ? 'queued' : 'collecting'} (${count})` };
  }
}
