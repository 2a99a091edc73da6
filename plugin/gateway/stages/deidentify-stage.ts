import type { OrthancRest } from '../../sdk';
import type { AuditLog } from '../audit-log';
import type { DeidWorkerPool } from '../deid/deid-worker-pool';
import { readRoutingHeader } from '../dicom-routing-header';
import { GatewayError } from '../gateway-errors';
import type { Job } from '../job';
import type { PhiVault } from '../vault/phi-vault';
import type { JobWork, Stage, StageResult } from './stage';

/**
 * Hands the original to a sealed worker, which writes the de-identified copy
 * into deid/ and returns the pseudonym mapping; the gateway alone writes the
 * mapping into the PHI vault.
 */
export class DeidentifyStage implements Stage {
  readonly name = 'deidentify';
  readonly #orthanc: OrthancRest;
  readonly #pool: DeidWorkerPool;
  readonly #vault: PhiVault;
  readonly #audit: AuditLog;

  constructor(orthanc: OrthancRest, pool: DeidWorkerPool, vault: PhiVault, audit: AuditLog) {
    this.#orthanc = orthanc;
    this.#pool = pool;
    this.#vault = vault;
    this.#audit = audit;
  }

  async run(job: Job, work: JobWork): Promise<StageResult> {
    const original = work.original ?? await this.#orthanc.instanceFile(job.instanceId);
    const header = work.header ?? readRoutingHeader(original, job.instanceId);
    const result = await this.#pool.deidentify({
      instanceId: job.instanceId, sopInstanceUid: header.sopInstanceUid,
      seriesInstanceUid: header.seriesInstanceUid, studyInstanceUid: header.studyInstanceUid,
    }, original);
    if (!result.ok) {
      throw new GatewayError('AIB_DEID_FAILED', `instance ${job.instanceId}: ${result.code}: ${result.message}`,
        { instanceId: job.instanceId, workerCode: result.code }, result.transient);
    }
    this.#vault.record(job.instanceId, result.vault);
    // Before the job is reported done: the boxes covered (frame, place, reason, rule; never the text).
    if (result.pixels) this.#audit.append({ event: 'pixels-cleaned', jobId: job.id, instanceId: job.instanceId, pixels: result.pixels });
    work.deid = { path: result.outputPath, linkToken: result.vault.linkToken };
    const hits = Object.entries(result.textHits).map(([kind, n]) => `${n} ${kind}`).join(', ');
    const boxes = result.pixels ? `, ${String(result.pixels.boxes.length)} pixel box(es) filled` : '';
    return {
      facts: { deidPath: result.outputPath, linkToken: result.vault.linkToken },
      outcome: (hits === '' ? 'de-identified' : `de-identified (text scrubbed: ${hits})`) + boxes,
    };
  }
}
