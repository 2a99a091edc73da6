import { AiBridgeError, type ErrorDetails } from '../../core/ai-bridge-error';

/**
 * A result object (GSPS or SR) could not be built from its inputs. `field`
 * names the option at fault (e.g. `result.findings[2].region`), so an invalid
 * object never exists and the annotator can say which input was wrong.
 * - AIB_RESULT_INVALID_INPUT: an AnnotationResult, SourceStudy or instance identity value is
 *   missing, malformed or inconsistent (e.g. a region outside its image); retrying cannot help.
 */
export type InvalidResultObjectCode = 'AIB_RESULT_INVALID_INPUT';

export class InvalidResultObjectError extends AiBridgeError {
  declare readonly code: InvalidResultObjectCode;
  declare readonly details: ErrorDetails & { readonly field: string };

  constructor(field: string, problem: string, details: ErrorDetails = {}) {
    super('AIB_RESULT_INVALID_INPUT', `${field}: ${problem}`, { ...details, field }, false);
  }
}
