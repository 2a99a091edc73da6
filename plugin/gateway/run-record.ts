// How one run of a unit of work (a job, an annotation) went, as the pipeline hands it to its
// store in one piece when the run ends (pipeline.ts WorkQueue.finishRun).

/** One stage of one run, for the record written when the run ends. */
export interface StageRun {
  readonly stage: string;
  readonly ms: number;
}

/** What one run of a unit learnt: the stages it ran (the last one is where it ended) and their facts, in order. */
export interface RunRecord<Facts> {
  readonly stages: readonly StageRun[];
  readonly facts: readonly Facts[];
}

/** How a run ended. */
export type RunEnd =
  | { readonly kind: 'done'; readonly outcome: string }
  | { readonly kind: 'retry'; readonly at: number; readonly errorCode: string; readonly message: string }
  | { readonly kind: 'quarantined'; readonly errorCode: string; readonly message: string };
