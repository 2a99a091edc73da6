import type { ServeOptions } from './cli-options.js';
import { preferredPort } from './cli-options.js';
import { startOrthanc, type RunningOrthanc } from './orthanc-launcher.js';

/** run and demo start Orthanc alike: our plugin and DICOMweb, well-known ports when free. */
export async function startForCli(opts: ServeOptions, aiBridge: Readonly<Record<string, unknown>> = {}): Promise<RunningOrthanc> {
  const httpPort = opts.httpPort ?? (await preferredPort(8042, opts.dicomPort));
  const dicomPort = opts.dicomPort ?? (await preferredPort(4242, httpPort));
  process.stdout.write(`Starting Orthanc (data in ${opts.dataDir})...\n`);
  return startOrthanc({
    dataDir: opts.dataDir,
    httpPort,
    dicomPort,
    dicomWeb: true,
    aiBridge,
    verbose: opts.verbose,
    ...(opts.configFile === undefined ? {} : { configFile: opts.configFile }),
  });
}
