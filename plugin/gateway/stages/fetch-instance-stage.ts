import { createHash } from 'node:crypto';

import type { OrthancRest } from '../../sdk';
import { OrthancSdkError } from '../../sdk';
import { readRoutingHeader } from '../dicom-routing-header';
import { GatewayError } from '../gateway-errors';
import type { Job } from '../job';
import type { JobWork, Stage, StageResult } from './stage';

/** Orthanc's OrthancPluginErrorCode_UnknownResource. */
const UNKNOWN_RESOURCE = 17;

/**
 * Takes the instance's stored bytes from Orthanc, fingerprints them and reads
 * the header the later stages route on (modality, series, SOP class). The
 * bridge's own results (SR/GSPS it stored) end here: they already carry the
 * original identifiers and are not images to annotate.
 */
export class FetchInstanceStage implements Stage {
  readonly name = 'fetch';
  readonly #orthanc: OrthancRest;
  readonly #ownResult: (sopInstanceUid: string) => number | undefined;

  /** `ownResult`: the annotation a SOP Instance UID is a delivered result of, if any. */
  constructor(orthanc: OrthancRest, ownResult: (sopInstanceUid: string) => number | undefined = () => undefined) {
    this.#orthanc = orthanc;
    this.#ownResult = ownResult;
  }

  async run(job: Job, work: JobWork): Promise<StageResult> {
    let bytes: Buffer;
    try {
      bytes = await this.#orthanc.instanceFile(job.instanceId);
    } catch (error) {
      if (error instanceof OrthancSdkError && error.orthancCode === UNKNOWN_RESOURCE) {
        // Deleted from Orthanc before we got to it: nothing left to process,
        // and nothing lost by us. Recorded as the job's outcome.
        return { outcome: 'instance deleted from Orthanc before processing', final: true };
      }
      if (error instanceof OrthancSdkError) {
        throw new GatewayError('AIB_INGEST_UNREADABLE', `instance ${job.instanceId}: ${error.message}`, { instanceId: job.instanceId }, true);
      }
      throw error;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const header = readRoutingHeader(bytes, job.instanceId);
    const facts = {
      sha256, sizeBytes: bytes.length,
      sopInstanceUid: header.sopInstanceUid, seriesInstanceUid: header.seriesInstanceUid,
      sopClassUid: header.sopClassUid, modality: header.modality, transferSyntaxUid: header.transferSyntaxUid,
    };
    const annotationId = this.#ownResult(header.sopInstanceUid);
    if (annotationId !== undefined)
      return { facts, outcome: `result of annotation ${String(annotationId)} stored by this bridge; not de-identified again`, final: true };
    work.original = bytes;
    work.header = header;
    return { facts, outcome: 'fetched and checksummed' };
  }
}
