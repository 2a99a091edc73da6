import { AiBridgeError } from '../core/ai-bridge-error';

/** An SDK call that Orthanc answered with an error code (or the socket lost). */
export class OrthancSdkError extends AiBridgeError {
  /** OrthancPluginErrorCode, or -1 when the call never reached Orthanc. */
  readonly orthancCode: number;

  constructor(fn: string, orthancCode: number, reason: string) {
    // Orthanc's own failures (timeouts, database busy) are worth another try; a
    // 404 (UnknownResource = 17) is not, the resource is gone.
    super('AIB_SDK_CALL_FAILED', `Orthanc SDK call ${fn} failed: ${reason}`, { fn, orthancCode }, orthancCode !== 17);
    this.orthancCode = orthancCode;
  }
}
