import { formatLogEvent, type LogFields } from '../core/log-event';
import type { SdkClient } from '../sdk';

/** One event per call: a kebab-case name and its fields (core/log-event.ts); never a concatenated sentence alone. */
export interface Logger {
  info(event: string, fields: LogFields): void;
  warn(event: string, fields: LogFields): void;
  error(event: string, fields: LogFields): void;
}

/**
 * Logs into Orthanc's own log through the SDK, so administrators read one
 * log, at Orthanc's matching level. While the socket is down, lines go to
 * stderr, which the native plugin also forwards into Orthanc's log.
 */
export class OrthancLogger implements Logger {
  readonly #sdk: SdkClient;

  constructor(sdk: SdkClient) {
    this.#sdk = sdk;
  }

  info(event: string, fields: LogFields): void {
    const line = formatLogEvent('ai-bridge', 'info', event, fields);
    this.#sdk.logInfo(line).catch(() => { process.stderr.write(`${line}\n`); });
  }

  warn(event: string, fields: LogFields): void {
    const line = formatLogEvent('ai-bridge', 'warning', event, fields);
    this.#sdk.logWarning(line).catch(() => { process.stderr.write(`${line}\n`); });
  }

  error(event: string, fields: LogFields): void {
    const line = formatLogEvent('ai-bridge', 'error', event, fields);
    this.#sdk.logError(line).catch(() => { process.stderr.write(`${line}\n`); });
  }
}
