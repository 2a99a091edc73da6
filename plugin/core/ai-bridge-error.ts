/**
 * Base of every error the project raises on purpose. The code is the contract
 * (stable, listed in README); `details` name the instance, pseudonym, model or
 * configuration key involved, never a patient attribute value.
 */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export class AiBridgeError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;
  /** false: retrying cannot help (bad input); true: a later attempt may succeed. */
  readonly transient: boolean;

  constructor(code: string, message: string, details: ErrorDetails = {}, transient = false) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
    this.transient = transient;
  }

  toJSON(): { code: string; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}
