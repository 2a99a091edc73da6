/**
 * Every refusal the central server answers with: a stable CENTRAL_* code (the
 * contract, listed in README), the HTTP status, and for intake every reason.
 */
export type CentralErrorCode =
  | 'CENTRAL_UNAUTHENTICATED'
  | 'CENTRAL_FORBIDDEN'
  | 'CENTRAL_NOT_FOUND'
  | 'CENTRAL_NOT_ENTITLED'
  | 'CENTRAL_BAD_REQUEST'
  | 'CENTRAL_BODY_TOO_LARGE'
  | 'CENTRAL_PACKAGE_INVALID'
  | 'CENTRAL_PACKAGE_UNSIGNED'
  | 'CENTRAL_SIGNATURE_INVALID'
  | 'CENTRAL_UNTRUSTED_KEY'
  | 'CENTRAL_VERSION_EXISTS'
  | 'CENTRAL_SITE_EXISTS'
  | 'CENTRAL_NOT_DEIDENTIFIED'
  | 'CENTRAL_NOT_DICOM'
  | 'CENTRAL_DUPLICATE_UPLOAD'
  | 'CENTRAL_UNSUPPORTED_MEDIA_TYPE'
  | 'CENTRAL_TOKEN_REVOKED'
  | 'CENTRAL_RATE_LIMITED'
  | 'CENTRAL_KEY_NOT_BOUND'
  | 'CENTRAL_INTERNAL';

export class CentralError extends Error {
  constructor(
    readonly code: CentralErrorCode,
    readonly status: number,
    message: string,
    readonly reasons?: readonly string[],
    /** 429: seconds until the caller may try again (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CentralError';
  }

  toBody(): { error: { code: string; message: string; reasons?: readonly string[] } } {
    return { error: { code: this.code, message: this.message, ...(this.reasons ? { reasons: this.reasons } : {}) } };
  }
}
