import type { RoutingHeader } from '../dicom-routing-header';
import type { InstanceFacts, Job } from '../job';
import type { PipelineStage } from '../pipeline';

export type { StageResult } from '../pipeline';

/** Carried from stage to stage within one attempt of one job (in memory only). */
export interface JobWork {
  /** The stored original, once a stage has fetched it. */
  original?: Buffer;
  /** What the fetch stage read from the original's header. */
  header?: RoutingHeader;
  /** Where the de-identified copy is (relative to deid/) and its link token, once written. */
  deid?: { readonly path: string; readonly linkToken: string };
}

/** A stage of the instance pipeline (fetch, de-identify, queue for annotation). */
export type Stage = PipelineStage<Job, JobWork, InstanceFacts>;
