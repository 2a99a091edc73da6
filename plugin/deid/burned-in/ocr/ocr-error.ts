import { AiBridgeError, type ErrorDetails } from '../../../core/ai-bridge-error';

export type OcrErrorCode = 'AIB_DEID_OCR_MODELS' | 'AIB_DEID_BURNED_IN_CONFIG';

/**
 * OCR cannot run: the model files are missing or do not load
 * (AIB_DEID_OCR_MODELS), or config/deid/burned-in-text.json is invalid
 * (AIB_DEID_BURNED_IN_CONFIG, naming the file and key). Never transient.
 */
export class OcrError extends AiBridgeError {
  declare readonly code: OcrErrorCode;

  constructor(code: OcrErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details, false);
  }
}
