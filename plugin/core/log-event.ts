/**
 * One log event per line: `[source] {"level":…,"event":…,…fields}` (JSON after the prefix, so a
 * line is read back with `jq` after cutting Orthanc's own prefix). The fields are a closed list of
 * opaque ids, stage names, codes and counts: no field can carry a patient attribute, and one that
 * is not on the list is dropped here, whatever a caller passes. `message` is the sentence for the
 * administrator; like every error message in this project it names ids and codes, never a value
 * read from a header.
 */

export type LogLevel = 'info' | 'warning' | 'error';

/** Optional fields may be given as undefined: they are left out of the line. */
export interface LogFields {
  readonly message: string;
  /** A job (one instance's way through the pipeline) and Orthanc's opaque instance id. */
  readonly job?: number | undefined;
  readonly instance?: string | undefined;
  readonly annotation?: number | undefined;
  /** A pipeline stage, or the part of the plugin that speaks (change-follower, category-requests…). */
  readonly stage?: string | undefined;
  /** An `AIB_…` code. */
  readonly code?: string | undefined;
  readonly attempt?: number | undefined;
  readonly retryInSeconds?: number | undefined;
  /** A worker process, for example `annotator 0`. */
  readonly process?: string | undefined;
  readonly model?: string | undefined;
  readonly version?: string | undefined;
  readonly categoryRequest?: string | undefined;
  /** An Orthanc change sequence. */
  readonly sequence?: number | undefined;
  readonly count?: number | undefined;
  readonly pid?: number | undefined;
}

/** Every key a line may hold besides level and event, in the order it is written. */
export const LOG_FIELD_NAMES = ['message', 'job', 'instance', 'annotation', 'stage', 'code', 'attempt', 'retryInSeconds',
  'process', 'model', 'version', 'categoryRequest', 'sequence', 'count', 'pid'] as const satisfies readonly (keyof LogFields)[];

/** An event name: kebab-case words (`job-quarantined`), so a filter can match it exactly. */
const EVENT_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function formatLogEvent(source: string, level: LogLevel, event: string, fields: LogFields): string {
  const line: Record<string, string | number> = { level, event: EVENT_NAME.test(event) ? event : 'unnamed-event' };
  const given = fields as unknown as Readonly<Record<string, unknown>>;
  for (const name of LOG_FIELD_NAMES) {
    const value = given[name];
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) line[name] = value;
  }
  // JSON.stringify escapes line breaks: an error message over several lines stays one event.
  return `[${source}] ${JSON.stringify(line)}`;
}

/** For the sandboxed processes (annotator, uplink): their stderr reaches Orthanc's log through the gateway's. */
export function writeLogEvent(source: string, level: LogLevel, event: string, fields: LogFields): void {
  process.stderr.write(`${formatLogEvent(source, level, event, fields)}\n`);
}

/** The code (when it has one) and message of a caught error, as an event's fields. */
export function errorFields(error: unknown): { readonly code?: string; readonly message: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^AIB_[A-Z0-9_]+$/.test(code) ? { code, message } : { message };
}
