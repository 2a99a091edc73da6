/**
 * The generator stops on anything it does not understand instead of skipping
 * it: a new SDK must show up as a failure or as a reviewed diff, never as a
 * silently missing binding.
 */
export class GenSdkError extends Error {
  constructor(message: string) {
    super(`gen-sdk: ${message}`);
    this.name = 'GenSdkError';
  }
}
