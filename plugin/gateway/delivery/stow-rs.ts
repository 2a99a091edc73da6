import { DicomwebService } from '../dicomweb/dicomweb-service';
import { GatewayError } from '../gateway-errors';

/** Where results go: the base of a STOW-RS service (this Orthanc's DICOMweb plugin by default). */
export interface StowTarget {
  readonly url: string;
  readonly authorization?: string;
}

export interface StowOutcome {
  readonly stored: readonly string[];
  /** Stored with a warning (e.g. coerced elements): still delivered. */
  readonly warnings: readonly string[];
}

const TAG_FAILED_SOP_SEQUENCE = '00081198';
const TAG_REFERENCED_SOP_SEQUENCE = '00081199';
const TAG_REFERENCED_SOP_INSTANCE_UID = '00081155';
const TAG_FAILURE_REASON = '00081197';
const TAG_WARNING_REASON = '00081196';

function items(json: Record<string, unknown>, tag: string): Record<string, unknown>[] {
  const element = json[tag];
  if (typeof element !== 'object' || element === null) return [];
  const values = (element as { Value?: unknown }).Value;
  return Array.isArray(values) ? values.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
}

/** The first value of an element as text ('' when absent): UIDs and US codes alike. */
function firstValue(item: Record<string, unknown>, tag: string): string {
  const element = item[tag];
  if (typeof element !== 'object' || element === null) return '';
  const values = (element as { Value?: unknown }).Value;
  const first: unknown = Array.isArray(values) ? values[0] : undefined;
  return typeof first === 'string' || typeof first === 'number' ? String(first) : '';
}

/**
 * Reads a STOW-RS answer (PS3.18 10.5.3): every object must be in the
 * Referenced SOP Sequence; any in the Failed SOP Sequence is a refusal whose
 * reason is recorded, and is not retried (the same bytes would fail again).
 */
export function readStowAnswer(status: number, body: Buffer, expected: readonly string[], where: string): StowOutcome {
  const text = body.toString('utf8');
  if (status === 0) {
    throw new GatewayError('AIB_STOW_UNAVAILABLE', `${where}: no answer (connection refused, reset or unreachable)`, { status }, true);
  }
  if (status >= 500 || status === 429) {
    throw new GatewayError('AIB_STOW_UNAVAILABLE', `${where} answered HTTP ${status}`, { status }, true);
  }
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    // A refusal may come as plain text; its status and first line are the reason.
  }
  const failed = items(json, TAG_FAILED_SOP_SEQUENCE).map((item) =>
    `${firstValue(item, TAG_REFERENCED_SOP_INSTANCE_UID) || '?'} (failure reason ${firstValue(item, TAG_FAILURE_REASON) || '?'})`);
  if (status >= 400 || failed.length > 0) {
    const reason = failed.length > 0 ? `refused ${failed.join(', ')}` : (text.split('\n')[0] ?? '').slice(0, 300);
    throw new GatewayError('AIB_STOW_REFUSED', `${where} refused the results (HTTP ${status}): ${reason}`, { status }, false);
  }
  const referenced = items(json, TAG_REFERENCED_SOP_SEQUENCE);
  const stored = referenced.map((item) => firstValue(item, TAG_REFERENCED_SOP_INSTANCE_UID));
  const missing = expected.filter((uid) => !stored.includes(uid));
  if (missing.length > 0) {
    throw new GatewayError('AIB_STOW_REFUSED', `${where} did not confirm ${missing.length} of ${expected.length} result(s) (HTTP ${status})`, { status }, false);
  }
  const warnings = referenced.filter((item) => firstValue(item, TAG_WARNING_REASON) !== '')
    .map((item) => firstValue(item, TAG_REFERENCED_SOP_INSTANCE_UID));
  return { stored, warnings };
}

/** STOW-RS of one annotation's results into one study. */
export class StowClient {
  readonly #target: StowTarget;
  readonly #service: DicomwebService;

  constructor(target: StowTarget) {
    this.#target = target;
    this.#service = new DicomwebService(target.url, target.authorization);
  }

  describe(): string {
    return this.#target.url;
  }

  async store(studyInstanceUid: string, objects: readonly { readonly bytes: Buffer; readonly sopInstanceUid: string }[]): Promise<StowOutcome> {
    const answer = await this.#service.storeInstances(studyInstanceUid, objects.map((o) => o.bytes));
    return readStowAnswer(answer.status, Buffer.from(answer.body, 'utf8'), objects.map((o) => o.sopInstanceUid), this.describe());
  }
}
