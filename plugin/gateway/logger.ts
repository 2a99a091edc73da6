import type { SdkClient } from '../sdk';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Logs into Orthanc's own log through the SDK, so administrators read one
 * log. While the socket is down, lines go to stderr, which the native plugin
 * also forwards into Orthanc's log.
 */
export class OrthancLogger implements Logger {
  readonly #sdk: SdkClient;

  constructor(sdk: SdkClient) {
    this.#sdk = sdk;
  }

  info(message: string): void {
    this.#sdk.logInfo(`[ai-bridge] ${message}`).catch(() => { process.stderr.write(`[ai-bridge] ${message}\n`); });
  }

  warn(message: string): void {
    this.#sdk.logWarning(`[ai-bridge] ${message}`).catch(() => { process.stderr.write(`[ai-bridge] WARNING ${message}\n`); });
  }

  error(message: string): void {
    this.#sdk.logError(`[ai-bridge] ${message}`).catch(() => { process.stderr.write(`[ai-bridge] ERROR ${message}\n`); });
  }
}
