import { AiBridgeError, type ErrorDetails } from '../core/ai-bridge-error.js';

/**
 * Codes raised by the command line and the Orthanc launcher it shares with the
 * tests and benchmarks:
 * - AIB_CLI_UNKNOWN_OPTION, AIB_CLI_BAD_OPTION_VALUE, AIB_CLI_UNKNOWN_COMMAND: bad command line (exit 2).
 * - AIB_CLI_MISSING_FILE: Orthanc, a plugin, DCMTK or a config file is not where expected.
 * - AIB_CLI_BAD_CONFIG_FILE: the --config file is not a JSON object.
 * - AIB_CLI_ORTHANC_START_FAILED: Orthanc exited or did not answer GET /system in time.
 * - AIB_CLI_ORTHANC_HTTP: a REST call answered with a non-2xx status.
 * - AIB_CLI_LOG_TIMEOUT: waitForLog saw no matching line in time.
 * - AIB_CLI_CENTRAL_REFUSED: the central server refused a request (its CENTRAL_* code and reasons follow).
 * - AIB_CLI_CENTRAL_UNREACHABLE: no answer from the --central URL.
 */
export type CliErrorCode =
  | 'AIB_CLI_UNKNOWN_OPTION'
  | 'AIB_CLI_BAD_OPTION_VALUE'
  | 'AIB_CLI_UNKNOWN_COMMAND'
  | 'AIB_CLI_MISSING_FILE'
  | 'AIB_CLI_BAD_CONFIG_FILE'
  | 'AIB_CLI_ORTHANC_START_FAILED'
  | 'AIB_CLI_ORTHANC_HTTP'
  | 'AIB_CLI_LOG_TIMEOUT'
  | 'AIB_CLI_CENTRAL_REFUSED'
  | 'AIB_CLI_CENTRAL_UNREACHABLE';

export class CliError extends AiBridgeError {
  declare readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details, false);
  }
}
