import { AiBridgeError } from '../core/ai-bridge-error.js';
import type { CommandName } from './cli-options.js';
import { CliError } from './errors.js';

// Each command's modules are loaded when it runs: the central server's (an HTTP framework,
// schema validators) cost the `deid` command about 0.4 s of start-up CPU when loaded eagerly.

const USAGE_ERRORS = new Set(['AIB_CLI_UNKNOWN_OPTION', 'AIB_CLI_BAD_OPTION_VALUE', 'AIB_CLI_UNKNOWN_COMMAND']);

async function serve(command: CommandName, args: readonly string[]): Promise<number> {
  const { parseServeOptions, USAGE } = await import('./cli-options.js');
  const opts = parseServeOptions(command, args);
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [{ startForCli }, { holdForeground }, { describeOrthanc }] = await Promise.all([
    import('./start-for-cli.js'), import('./foreground.js'), import('./orthanc-urls.js'),
  ]);
  // The demo shows the results in the OHIF viewer the bridge serves; on `run` it stays off, as on any Orthanc.
  const orthanc = await startForCli(opts, command === 'demo' ? { OhifViewer: true } : {});
  const held = holdForeground(orthanc);
  process.stdout.write(`${describeOrthanc(orthanc, true)}\n`);
  if (command === 'demo') {
    const { runDemo } = await import('./demo-command.js');
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
    const [{ USAGE }, { DEID_USAGE }, { CENTRAL_USAGE }, { MODEL_USAGE }] = await Promise.all([
      import('./cli-options.js'), import('./deid-options.js'), import('./central-command.js'), import('./model-command.js'),
    ]);
    process.stdout.write(`${USAGE}\n${DEID_USAGE}\nCentral server and model packages:\n${CENTRAL_USAGE}${MODEL_USAGE}`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'run' || command === 'demo') return serve(command, rest);
  if (command === 'deid') return (await import('./deid-command.js')).runDeid(rest);
  if (command === 'central') return (await import('./central-command.js')).runCentral(rest);
  if (command === 'model') return (await import('./model-command.js')).runModel(rest);
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
