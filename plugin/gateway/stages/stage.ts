import type { ScanCategory } from '../../core/model-package/scan-category';
import type { RoutingFacts } from '../../core/routing-facts';
import type { InstanceFacts, Job } from '../job';
import type { PipelineStage } from '../pipeline';

export type { StageResult } from '../pipeline';

/** Carried from stage to stage within one attempt of one job (in memory only; never the instance bytes). */
export interface JobWork {
  /** Orthanc's id of the instance's series, from Orthanc's index. */
  orthancSeriesId?: string;
  /** What the worker's parse of the original read: what the later stages route on. */
  routing?: RoutingFacts;
  /** Where the de-identified copy is (relative to deid/), its link token, and what model selection looks at in it, once written. */
  deid?: { readonly path: string; readonly linkToken: string; readonly scan: Required<ScanCategory> };
}

/** A stage of the instance pipeline (fetch, de-identify, queue for annotation). */
export type Stage = PipelineStage<Job, JobWork, InstanceFacts>;
