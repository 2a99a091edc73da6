import { AiBridgeError, type ErrorDetails } from '../ai-bridge-error';

export type ModelErrorCode =
  | 'AIB_MODEL_MANIFEST_INVALID'
  | 'AIB_MODEL_FILE_MISSING'
  | 'AIB_MODEL_SIGNATURE_INVALID'
  | 'AIB_MODEL_UNTRUSTED_KEY'
  | 'AIB_MODEL_COMMISSIONING_FAILED'
  | 'AIB_MODEL_ALREADY_INSTALLED'
  | 'AIB_MODEL_NOT_INSTALLED'
  | 'AIB_MODEL_NO_PREVIOUS_VERSION'
  | 'AIB_MODEL_KEY_INSECURE'
  | 'AIB_MODEL_INFERENCE_FAILED';

/**
 * A model package was refused, or a model could not run. Details name the
 * package folder, model id and version, or manifest key; never patient data.
 * Refusals are not transient: the same package fails the same way.
 */
export class ModelError extends AiBridgeError {
  declare readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details, false);
  }
}
