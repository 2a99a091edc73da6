// Messages between the gateway (PHI zone) and the annotator process
// (de-identified zone). The annotator only ever sees paths inside the
// de-identified store and link tokens; it writes its results to outbox/.
// Checked on arrival: the annotator is another process, its frames are data.

/** Gateway → annotator, once. */
export interface AnnotatorInitRequest {
  readonly k: 'init';
  /** deid/: the de-identified store (read only for the annotator). */
  readonly deidDirectory: string;
  /** outbox/: where results are written, one folder per annotation. */
  readonly outboxDirectory: string;
  /** models/: installed, verified model versions. */
  readonly modelsDirectory: string;
}

export interface ModelSummary {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  /** 'instance': one result per image; 'series': one result per complete series. */
  readonly unit: 'instance' | 'series';
  readonly modalities: readonly string[];
  readonly bodyParts: readonly string[];
}

export interface AnnotatorReady {
  readonly k: 'ready';
  readonly models: readonly ModelSummary[];
}

/** Gateway → annotator: which model, if any, applies to this de-identified instance? */
export interface ClassifyRequest {
  readonly k: 'classify';
  /** Relative to the de-identified store. */
  readonly deidPath: string;
}

export interface ClassifyReply {
  readonly k: 'classified';
  /** Absent: no installed model serves this scan category. */
  readonly model?: { readonly id: string; readonly version: string; readonly unit: 'instance' | 'series' };
  /** The instance's modality and body part as the de-identified header states them (for the record). */
  readonly category: { readonly modality: string; readonly bodyPart: string };
  /** Instances the series will have, from header hints (Images in Acquisition, Number of Slices, ...), when stated. */
  readonly expectedInstances?: number;
}

/** Gateway → annotator: run a model over these de-identified instances and build its results. */
export interface AnnotateRequest {
  readonly k: 'annotate';
  /** Stable per annotation (unit + model): names its folder in outbox/. */
  readonly key: string;
  readonly model: { readonly id: string; readonly version: string };
  readonly members: readonly { readonly deidPath: string; readonly linkToken: string }[];
}

export interface AnnotationOutput {
  readonly kind: 'sr' | 'gsps';
  /** Relative to outbox/. */
  readonly path: string;
  readonly sopClassUid: string;
}

export interface AnnotateSuccess {
  readonly k: 'annotated';
  readonly ok: true;
  readonly outputs: readonly AnnotationOutput[];
  readonly findings: number;
  readonly summary: string;
  /** The link tokens of the images the results reference. */
  readonly referencedTokens: readonly string[];
}

export interface AnnotateFailure {
  readonly k: 'annotated';
  readonly ok: false;
  readonly code: string;
  readonly message: string;
  readonly transient: boolean;
}

export type AnnotateReply = AnnotateSuccess | AnnotateFailure;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isAnnotatorReady(value: unknown): value is AnnotatorReady {
  return isRecord(value) && value['k'] === 'ready' && Array.isArray(value['models']);
}

export function isClassifyReply(value: unknown): value is ClassifyReply {
  if (!isRecord(value) || value['k'] !== 'classified' || !isRecord(value['category'])) return false;
  const model = value['model'];
  if (model === undefined) return true;
  return isRecord(model) && typeof model['id'] === 'string' && typeof model['version'] === 'string' &&
    (model['unit'] === 'instance' || model['unit'] === 'series');
}

export function isAnnotateReply(value: unknown): value is AnnotateReply {
  if (!isRecord(value) || value['k'] !== 'annotated') return false;
  if (value['ok'] === true) {
    return Array.isArray(value['outputs']) && value['outputs'].every((o) => isRecord(o) && typeof o['path'] === 'string' &&
      (o['kind'] === 'sr' || o['kind'] === 'gsps') && typeof o['sopClassUid'] === 'string') &&
      typeof value['findings'] === 'number' && typeof value['summary'] === 'string' && Array.isArray(value['referencedTokens']);
  }
  return value['ok'] === false && typeof value['code'] === 'string' && typeof value['message'] === 'string';
}
