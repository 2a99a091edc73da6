import type { RoutingFacts } from '../../core/routing-facts';
import type { SliceGeometry } from '../../core/slice-geometry';
import type { Annotation, AnnotationStore, MemberArrival } from '../annotation/annotation-store';
import type { AnnotatorPool } from '../annotation/annotator-pool';
import type { Job } from '../job';
import type { JobWork, Stage, StageResult } from './stage';

/**
 * Chooses the model that serves the de-identified copy's scan category (from
 * the values the worker wrote into the copy and the annotator's active models:
 * no round trip to the annotator, so a job never waits for inference) and
 * enrols the copy in that model's annotation: its own (unit 'instance'), or
 * its series' (unit 'series', due when the series is complete). No model for
 * the category is an outcome, not an error, and so is an instance without
 * Modality, SOP Class or Body Part: the outcome names what it lacks.
 */
export class QueueAnnotationStage implements Stage {
  readonly name = 'queue-annotation';
  readonly #annotator: AnnotatorPool;
  readonly #annotations: AnnotationStore;
  readonly #onDue: () => void;
  readonly #onCollecting: (annotation: Annotation, member: MemberArrival) => void;

  /** `onCollecting`: a series annotation took a member and still waits for its series to be complete (SeriesWatch judges it). */
  constructor(annotator: AnnotatorPool, annotations: AnnotationStore, onDue: () => void,
    onCollecting: (annotation: Annotation, member: MemberArrival) => void = () => undefined) {
    this.#annotator = annotator;
    this.#annotations = annotations;
    this.#onDue = onDue;
    this.#onCollecting = onCollecting;
  }

  async run(job: Job, work: JobWork): Promise<StageResult> {
    const { deid, routing, orthancSeriesId: seriesId } = work;
    if (deid === undefined || routing === undefined || seriesId === undefined) {
      throw new Error(`instance ${job.instanceId}: the earlier stages left no copy to annotate`);
    }
    await this.#annotator.offerForTraining(deid.path, deid.scan.modality);
    const selected = await this.#annotator.selectModel(deid.scan);
    const category = `${deid.scan.modality || '?'}/${deid.scan.bodyPartExamined || 'unspecified body part'}`;
    if (selected === undefined) return { outcome: `de-identified; no applicable model for ${category}${lacking(routing)}` };
    // Arrival: when the job was created from Orthanc's change; geometry: as the worker read it (de-identification keeps it).
    const member: MemberArrival = { jobId: job.id, linkToken: deid.linkToken, deidPath: deid.path, arrivedAt: job.createdAt, geometry: geometryOf(routing) };
    const { annotation, due } = await this.#annotations.enrol({
      unit: selected.unit,
      studyInstanceUid: routing.studyInstanceUid,
      seriesInstanceUid: routing.seriesInstanceUid,
      sopInstanceUid: routing.sopInstanceUid,
      orthancSeriesId: seriesId,
      model: { id: selected.id, version: selected.version },
      expectedInstances: routing.expectedInstances ?? undefined,
      member,
    });
    if (due) this.#onDue();
    else if (annotation.unit === 'series') this.#onCollecting(annotation, member);
    const model = `${selected.id}@${selected.version}`;
    if (annotation.unit === 'instance') return { outcome: `de-identified; annotation ${annotation.id} by ${model} queued` };
    const count = annotation.expectedInstances === null ? `${annotation.members} in, series size not known yet` : `${annotation.members}/${annotation.expectedInstances}`;
    return { outcome: `de-identified; series annotation ${annotation.id} by ${model} ${due ? 'queued' : 'collecting'} (${count})` };
  }
}

function geometryOf(routing: RoutingFacts): SliceGeometry {
  return {
    instanceNumber: routing.instanceNumber, imagePositionPatient: routing.imagePositionPatient, imageOrientationPatient: routing.imageOrientationPatient,
    sliceThickness: routing.sliceThickness, spacingBetweenSlices: routing.spacingBetweenSlices,
  };
}

/** Why no model could apply, when the instance lacks what categories are made of: ' (no Modality, no SOP Class UID)'. */
function lacking(routing: RoutingFacts): string {
  const missing = [
    routing.modality === '' ? 'Modality' : '',
    routing.sopClassUid === '' ? 'SOP Class UID' : '',
    routing.bodyPartExamined === '' ? 'Body Part Examined' : '',
  ].filter((name) => name !== '');
  return missing.length === 0 ? '' : ` (the instance has no ${missing.join(', no ')})`;
}
