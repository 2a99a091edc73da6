import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';
import { claimPorts, freePort } from './orthanc-launcher.js';
import { repoRoot } from './repo-root.js';

export type CommandName = 'run' | 'demo';

export interface ServeOptions {
  readonly dataDir: string;
  /** undefined: 8042 (4242) when free, else any free port. */
  readonly httpPort: number | undefined;
  readonly dicomPort: number | undefined;
  readonly configFile: string | undefined;
  readonly verbose: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage:
  orthanc-ai-bridge run  [--data DIR] [--http-port N] [--dicom-port N] [--config FILE] [--verbose]
  orthanc-ai-bridge demo [--data DIR] [--http-port N] [--dicom-port N] [--config FILE] [--verbose]
  orthanc-ai-bridge --help

run   Starts Debian's Orthanc in the foreground with the AI bridge plugin and
      DICOMweb, HTTP and DICOM for this machine only (RemoteAccessAllowed false),
      and stops everything on Ctrl-C (SIGINT) or SIGTERM.
demo  Like run, then sends the sample instances of fixtures/samples/ with
      storescu, waits for their jobs to finish and prints where to look.

Options:
  --data DIR        Orthanc storage and index in DIR/orthanc, plugin data in DIR/ai-bridge
                    (run: ./orthanc-ai-bridge-data, demo: <repo>/.demo)
  --http-port N     HTTP port (default 8042 if free, else a free port)
  --dicom-port N    DICOM port (default 4242 if free, else a free port)
  --config FILE     your orthanc.json, merged over the generated one (objects key by key;
                    Plugins lists are united); the AiBridge section goes there too
  --verbose         Orthanc --verbose
  -h, --help        this text
`;

function port(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) {
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `${option} must be a port number (1-65535), got "${value}"`, { option });
  }
  return n;
}

function distinctPorts(httpPort: number | undefined, dicomPort: number | undefined): { httpPort: number | undefined; dicomPort: number | undefined } {
  if (httpPort !== undefined && httpPort === dicomPort) {
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `--http-port and --dicom-port are both ${String(httpPort)}: Orthanc needs a port for each`, { option: '--dicom-port' });
  }
  return { httpPort, dicomPort };
}

/** Parses a command's options; unknown options and stray arguments are CliErrors naming them. */
export function parseServeOptions(command: CommandName, args: readonly string[]): ServeOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' },
        'http-port': { type: 'string' },
        'dicom-port': { type: 'string' },
        config: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new CliError('AIB_CLI_UNKNOWN_OPTION', `${command}: ${message.replace(/\. (To specify|This command)[^]*$/, '')}`, { command });
    }
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `${command}: ${message}`, { command });
  }
  const v = parsed.values;
  const defaultData = command === 'demo' ? path.join(repoRoot(), '.demo') : 'orthanc-ai-bridge-data';
  return {
    dataDir: path.resolve(v.data ?? defaultData),
    ...distinctPorts(port(v['http-port'], '--http-port'), port(v['dicom-port'], '--dicom-port')),
    configFile: v.config === undefined ? undefined : path.resolve(v.config),
    verbose: v.verbose ?? false,
    help: v.help ?? false,
  };
}

/** True when nothing listens on port (any address): Orthanc binds all interfaces. */
function isPortFree(candidate: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(candidate, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/**
 * The well-known port when it is free and not `taken` (the other port already
 * chosen), else any free one (reported, so the user knows).
 */
export async function preferredPort(wanted: number, taken?: number): Promise<number> {
  if (wanted !== taken && await isPortFree(wanted)) {
    claimPorts(wanted);
    return wanted;
  }
  return freePort();
}
