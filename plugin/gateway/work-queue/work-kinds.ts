import type { WorkKind } from './work-item';

/**
 * Every kind of work the gateway queues, with the resting states it adds to
 * the queue's own. Adding a state to a kind (a category request waiting for
 * an administrator's approval) is a change to this table, not to the queue.
 */
export const WORK_KINDS: readonly WorkKind[] = [
  // One stored instance: fetch, de-identify, enrol for annotation (instance-jobs.ts).
  { name: 'instance', heldStates: [] },
  // One model over one instance or series; a series collects its members first (annotation/annotation-store.ts).
  { name: 'annotation', heldStates: ['collecting'] },
  // An administrator's re-processing of an Orthanc query: the jobs it queued (bulk-store.ts).
  { name: 'bulk', heldStates: [] },
  // A central server's request for studies of a scan category (category-requests/category-request-store.ts). It waits
  // for an administrator's approval (branch control, issue 15); approved it is queued (search, then upload),
  // declined it ends done with the decision as its outcome.
  { name: 'category-request', heldStates: ['awaiting-approval'] },
  // A report message to de-identify and attach (issue 16).
  { name: 'report-message', heldStates: [] },
  // An AI preliminary report to send to the report system as ORU^R01, until it is ACKed (issue 16).
  { name: 'report-outbound', heldStates: [] },
];
