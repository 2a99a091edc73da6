// The states a job (one instance) and an annotation (one model over one unit) move through.
// They are part of the /ai-bridge/ REST contract (core/admin-api.ts, read by the web UI) as much
// as of the work queue's states (plugin/gateway/work-queue/work-kinds.ts), so they live in core where both can import them.

export const JOB_STATES = ['queued', 'running', 'retrying', 'done', 'quarantined'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const ANNOTATION_STATES = ['collecting', 'queued', 'running', 'retrying', 'done', 'quarantined'] as const;
export type AnnotationState = (typeof ANNOTATION_STATES)[number];
