import { AiBridgeError, type ErrorDetails } from '../core/ai-bridge-error';

/**
 * Every error code the gateway raises, with its meaning. README lists them;
 * a test checks both agree.
 */
export const GATEWAY_ERROR_CODES = {
  AIB_CONFIG_INVALID_JSON: 'Orthanc returned a configuration that is not JSON',
  AIB_CONFIG_UNKNOWN_KEY: 'a key in the AiBridge section is not in the schema',
  AIB_CONFIG_BAD_VALUE: 'a key in the AiBridge section has the wrong type or range',
  AIB_CONFIG_DATA_DIRECTORY: 'the data directory cannot be created or written',
  AIB_INGEST_UNREADABLE: 'Orthanc could not look the instance up or spool it for the worker (retried)',
  AIB_DEID_WORKER_LOST: 'a de-identification worker stopped while handling the instance (retried)',
  AIB_DEID_WORKER_TIMEOUT: 'a de-identification worker did not answer within DeidTimeoutSeconds; it was killed and replaced (retried)',
  AIB_DEID_WORKERS_BUSY: 'too many instances already wait for a de-identification worker (retried later)',
  AIB_DEID_WORKER_PROTOCOL: 'a de-identification worker sent a reply the gateway does not understand (retried)',
  AIB_DEID_FAILED: 'the de-identification worker refused the instance; the code in the message says why',
  AIB_VAULT_CONFLICT: 'the vault already maps this original to a different pseudonym (refused, never overwritten)',
  AIB_VAULT_SITE_KEY_MISMATCH: 'this node\'s phi/site.key differs from the site key the other nodes share in the PostgreSQL PHI vault; the gateway refuses to start',
  AIB_JOB_ATTEMPTS_EXHAUSTED: 'the instance failed transiently MaxAttempts times',
  AIB_ANNOTATOR_LOST: 'the annotator process stopped while handling an annotation (retried)',
  AIB_ANNOTATOR_TIMEOUT: 'the annotator did not answer within AnnotatorTimeoutSeconds; it was killed and replaced (retried)',
  AIB_ANNOTATOR_BUSY: 'too many requests already wait for the annotator (retried later)',
  AIB_ANNOTATOR_PROTOCOL: 'the annotator process sent a reply the gateway does not understand (retried)',
  AIB_ANNOTATE_FAILED: 'the annotator could not run the model or build its results; the code in the message says why',
  AIB_RELINK_FAILED: 'a result could not be put back on the original study (its references are not in the vault)',
  AIB_STOW_UNAVAILABLE: 'the DICOMweb endpoint could not be reached or answered 5xx (retried)',
  AIB_STOW_REFUSED: 'the DICOMweb endpoint refused the results; its reason is recorded (not retried)',
  AIB_RESULT_SUPERSEDE_FAILED: 'a series\' earlier results could not be removed from Orthanc after its corrected results were stored (retried)',
  AIB_API_NOT_FOUND: 'no such route or job',
  AIB_API_BAD_PARAMETER: 'a query parameter or path segment is invalid',
  AIB_API_METHOD_NOT_ALLOWED: 'the route exists but not for this method',
  AIB_API_CONFLICT: 'the job is not in a state that allows the action',
  AIB_UI_NOT_BUILT: 'the admin UI bundle (dist/web-ui) is missing: the build did not run',
  AIB_VIEWER_DISABLED: 'the OHIF viewer under /ai-bridge/viewer/ is off (AiBridge.OhifViewer false)',
  AIB_VIEWER_NOT_INSTALLED: 'the OHIF viewer files are missing (scripts/fetch-ohif.sh did not run, or the package lost them)',
  AIB_BULK_QUERY_FAILED: 'Orthanc refused the bulk action\'s /tools/find query; its answer is in the message',
  AIB_API_UNAVAILABLE: 'the annotator is off (Annotate false) or not ready yet: models and categories cannot be read or changed',
  AIB_QUEUE_LEASE_LOST: 'the work queue gave the item to another owner after this one\'s lease ran out; the late result is dropped',
  AIB_QUEUE_SCHEMA_TOO_NEW: 'the work queue\'s database was migrated by a newer gateway; this one refuses to read it',
  AIB_QUEUE_UNKNOWN_KIND: 'a kind of work that plugin/gateway/work-queue/work-kinds.ts does not list (a bug)',
  AIB_QUEUE_UNKNOWN_STATE: 'a state that the work kind does not have (a bug)',
  AIB_QUEUE_BAD_PAYLOAD: 'a work item\'s stored facts do not have the shape its kind expects',
  AIB_QUEUE_DATABASE_UNREACHABLE: 'PostgreSQL (AiBridge.Database) refused the connection or the schema',
  AIB_API_CROSS_ORIGIN: 'a state-changing request without the x-requested-by header, or from a page on another origin (403)',
  AIB_CATEGORY_REQUEST_REFUSED: 'a category request is outside this site\'s limits or not in a state that allows the action (409)',
  AIB_CATEGORY_SEARCH_FAILED: 'the search of the PACS for a category request failed (QIDO-RS, findscu or movescu); retried next poll',
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERROR_CODES;

export class GatewayError extends AiBridgeError {
  constructor(code: GatewayErrorCode, message: string, details: ErrorDetails = {}, transient = false) {
    super(code, message, details, transient);
  }
}

export class ConfigError extends GatewayError {}
