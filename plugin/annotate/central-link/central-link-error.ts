import { AiBridgeError, type ErrorDetails } from '../../core/ai-bridge-error';

export type CentralLinkErrorCode =
  | 'AIB_CENTRAL_CONFIG'
  | 'AIB_CENTRAL_UNREACHABLE'
  | 'AIB_CENTRAL_REFUSED'
  | 'AIB_CENTRAL_CATALOGUE_INVALID'
  | 'AIB_CENTRAL_CATALOGUE_REPLAYED'
  | 'AIB_CENTRAL_CATALOGUE_STALE'
  | 'AIB_CENTRAL_CATALOGUE_WRONG_SITE'
  | 'AIB_CENTRAL_PACKAGE_INVALID';

/**
 * The central link failed or refused something. Details name the URL path,
 * model id and version, request id or config key; never a token, never
 * patient data (the link only ever handles de-identified copies anyway).
 */
export class CentralLinkError extends AiBridgeError {
  declare readonly code: CentralLinkErrorCode;

  constructor(code: CentralLinkErrorCode, message: string, details: ErrorDetails = {}, transient = false) {
    super(code, message, details, transient);
  }
}
