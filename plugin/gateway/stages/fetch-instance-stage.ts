import type { OrthancRest } from '../../sdk';
import { GatewayError } from '../gateway-errors';
import type { Job } from '../job';
import { callForInstance, DELETED_BEFORE_PROCESSING } from './instance-call';
import type { JobWork, Stage, StageResult } from './stage';

/**
 * Looks the instance up in Orthanc's index (JSON, no file read and no DICOM
 * parse): its SOP Instance UID and parent series. The bridge's own results
 * (SR/GSPS it stored) end here: they already carry the original identifiers
 * and are not images to annotate. The bytes are never fetched: the
 * de-identify stage has the plugin spool them for the worker.
 */
export class FetchInstanceStage implements Stage {
  readonly name = 'fetch';
  readonly #orthanc: OrthancRest;
  readonly #ownResult: (sopInstanceUid: string) => Promise<number | undefined>;

  /** `ownResult`: the annotation a SOP Instance UID is a delivered result of, if any. */
  constructor(orthanc: OrthancRest, ownResult: (sopInstanceUid: string) => Promise<number | undefined> = () => Promise.resolve(undefined)) {
    this.#orthanc = orthanc;
    this.#ownResult = ownResult;
  }

  async run(job: Job, work: JobWork): Promise<StageResult> {
    const found = await callForInstance(job.instanceId, () => this.#orthanc.getJson(`/instances/${job.instanceId}`));
    if (found === undefined) return DELETED_BEFORE_PROCESSING;
    const entry = found.value;
    const record = typeof entry === 'object' && entry !== null ? entry as Record<string, unknown> : {};
    const tags = typeof record['MainDicomTags'] === 'object' && record['MainDicomTags'] !== null ? record['MainDicomTags'] as Record<string, unknown> : {};
    const sopInstanceUid = typeof tags['SOPInstanceUID'] === 'string' ? tags['SOPInstanceUID'] : '';
    const seriesId = record['ParentSeries'];
    if (typeof seriesId !== 'string') {
      throw new GatewayError('AIB_INGEST_UNREADABLE', `instance ${job.instanceId}: Orthanc names no parent series`, { instanceId: job.instanceId }, true);
    }
    const annotationId = sopInstanceUid === '' ? undefined : await this.#ownResult(sopInstanceUid);
    const facts = sopInstanceUid === '' ? {} : { sopInstanceUid };
    if (annotationId !== undefined)
      return { facts, outcome: `result of annotation ${String(annotationId)} stored by this bridge; not de-identified again`, final: true };
    work.orthancSeriesId = seriesId;
    return { facts, outcome: 'found in Orthanc\'s index' };
  }
}
