import { AiBridgeError, type ErrorDetails } from '../../core/ai-bridge-error';

export type DeidPolicyErrorCode = 'AIB_DEID_POLICY_INVALID' | 'AIB_DEID_POLICY_UNKNOWN_PROFILE';

/** A table, profile or option combination the engine refuses to run with. Names files and keys, never patient values. */
export class DeidPolicyError extends AiBridgeError {
  constructor(code: DeidPolicyErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details, false);
  }
}
