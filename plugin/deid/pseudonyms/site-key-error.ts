import { AiBridgeError, type ErrorDetails } from '../../core/ai-bridge-error';

export type SiteKeyErrorCode = 'AIB_DEID_KEY_INSECURE' | 'AIB_DEID_KEY_INVALID';

/** The site secret cannot be used. Names the key file, never its content. */
export class SiteKeyError extends AiBridgeError {
  constructor(code: SiteKeyErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details, false);
  }
}
