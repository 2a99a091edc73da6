import { AiBridgeError } from '../core/ai-bridge-error.js';
import { CENTRAL_USAGE, runCentral } from './central-command.js';
import { parseServeOptions, USAGE, type CommandName } from './cli-options.js';
import { runDeid } from './deid-command.js';
import { DEID_USAGE } from './deid-options.js';
import { runDemo } from './demo-command.js';
import { CliError } from './errors.js';
import { holdForeground } from './foreground.js';
import { MODEL_USAGE, runModel } from './model-command.js';
import { describeOrthanc } from './orthanc-urls.js';
import { startForCli } from './start-for-cli.js';

const USAGE_ERRORS = new Set(['AIB_CLI_UNKNOWN_OPTION', 'AIB_CLI_BAD_OPTION_VALUE', 'AIB_CLI_UNKNOWN_COMMAND']);

async function serve(command: CommandName, args: readonly string[]): Promise<number> {
  const opts = parseServeOptions(command, args);
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // The demo shows the results in the OHIF viewer the bridge serves; on `run` it stays off, as on any Orthanc.
  const orthanc = await startForCli(opts, command === 'demo' ? { OhifViewer: true } : {});
  const held = holdForeground(orthanc);
  process.stdout.write(`${describeOrthanc(orthanc, true)}\n`);
  if (command === 'demo') {
    const demo = runDemo(orthanc).then(() => undefined, (e: unknown) => {
      process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
    });
    await Promise.race([demo, held]);
  }
  process.stdout.write('\nOrthanc is running; press Ctrl-C to stop.\n');
  return held;
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n${DEID_USAGE}\nCentral server and model packages:\n${CENTRAL_USAGE}${MODEL_USAGE}`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'run' || command === 'demo') return serve(command, rest);
  if (command === 'deid') return runDeid(rest);
  if (command === 'central') return runCentral(rest);
  if (command === 'model') return runModel(rest);
  if (command.startsWith('-')) {
    throw new CliError('AIB_CLI_UNKNOWN_OPTION', `unknown option ${command} (options follow the command: run, demo, deid, central or model)`, { option: command });
  }
  throw new CliError('AIB_CLI_UNKNOWN_COMMAND', `unknown command "${command}" (expected run, demo, deid, central or model)`, { command });
}

/** Entry point of bin/orthanc-ai-bridge.js: exit 0 on success, 2 on a usage error, 1 otherwise. */
export async function main(argv: readonly string[]): Promise<void> {
  let code: number;
  try {
    code = await dispatch(argv);
  } catch (e) {
    if (e instanceof AiBridgeError) {
      process.stderr.write(`orthanc-ai-bridge: ${e.message} [${e.code}]\n`);
      if (USAGE_ERRORS.has(e.code)) process.stderr.write('Run orthanc-ai-bridge --help for usage.\n');
      code = USAGE_ERRORS.has(e.code) ? 2 : 1;
    } else {
      process.stderr.write(`orthanc-ai-bridge: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      code = 1;
    }
  }
  process.exit(code);
}
