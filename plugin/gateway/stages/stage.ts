import type { RoutingHeader } from '../dicom-routing-header';
import type { InstanceFacts, Job } from '../job';

/** Carried from stage to stage within one attempt of one job (in memory only). */
export interface JobWork {
  /** The stored original, once a stage has fetched it. */
  original?: Buffer;
  /** What the fetch stage read from the original's header. */
  header?: RoutingHeader;
}

/** What a stage hands on: facts to keep on the job, and an outcome when the job ends here. */
export interface StageResult {
  readonly facts?: InstanceFacts;
  /** Set by the last stage that ran: the job's outcome. */
  readonly outcome?: string;
  /** The job ends here, done (e.g. the instance was deleted from Orthanc meanwhile). */
  readonly final?: boolean;
}

/**
 * One step of an instance's way through the pipeline. A stage is idempotent:
 * after a crash or a retry it runs again from the start for that job. It
 * throws AiBridgeError (transient or not) to fail; anything else counts as
 * transient, since a bug fixed by a restart should not quarantine data.
 */
export interface Stage {
  readonly name: string;
  run(job: Job, work: JobWork): Promise<StageResult>;
}
