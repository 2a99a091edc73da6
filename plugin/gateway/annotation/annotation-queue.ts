import type { PipelineQueue } from '../pipeline';
import { retryDelayMs, type RetryPolicy } from '../work-queue/retry-policy';
import type { Annotation, AnnotationStore } from './annotation-store';

/**
 * The annotation store as the pipeline's queue, with the one retry policy.
 * Transitional: annotations move into the work queue next (kind 'annotation').
 */
export function annotationQueue(store: AnnotationStore, retry: RetryPolicy): PipelineQueue<Annotation> {
  const ran = (id: number, run: { stages: readonly { stage: string }[]; payload?: Readonly<Record<string, unknown>> }): void => {
    for (const stage of run.stages) store.setStage(id, stage.stage);
    if (run.payload !== undefined) store.recordFacts(id, run.payload);
  };
  return {
    claim: () => Promise.resolve(store.claimNext(Date.now())),
    heartbeat: () => Promise.resolve(true),
    complete: (annotation, _owner, outcome, run) => {
      ran(annotation.id, run);
      store.complete(annotation.id, outcome);
      return Promise.resolve();
    },
    fail: (annotation, _owner, failure, run) => {
      ran(annotation.id, run);
      if (failure.transient && annotation.attempts < retry.maxAttempts) {
        const retryAt = Date.now() + retryDelayMs(retry, annotation.attempts);
        store.scheduleRetry(annotation.id, retryAt, failure.code, failure.message);
        return Promise.resolve({ state: 'retrying', retryAt });
      }
      const code = failure.transient ? 'AIB_JOB_ATTEMPTS_EXHAUSTED' : failure.code;
      const message = failure.transient ? `${annotation.attempts} attempts failed; last: ${failure.code}: ${failure.message}` : failure.message;
      store.quarantine(annotation.id, code, message);
      return Promise.resolve({ state: 'quarantined', code, message });
    },
    nextDueAt: () => Promise.resolve(store.nextRetryAt()),
  };
}
