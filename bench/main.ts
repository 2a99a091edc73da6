import { runCentralBench } from './central.js';
import { runDeidBench } from './deid.js';
import { runDeletionsBench } from './deletions.js';
import { runE2eBench } from './e2e.js';
import { runIngestBench } from './ingest.js';
import { runPipelineBench } from './pipeline.js';
import { runPixelsBench } from './pixels.js';
import { runQueueBench } from './queue.js';
import { runRobustnessBench } from './robustness.js';
import { runScaleBench } from './scale.js';

/** `npm run bench -- NAME [options]`; no name runs every bench. */
const BENCHES: Readonly<Record<string, (args: readonly string[]) => Promise<void>>> = {
  ingest: runIngestBench,
  deid: runDeidBench,
  deletions: runDeletionsBench,
  e2e: runE2eBench,
  pipeline: runPipelineBench,
  central: runCentralBench,
  pixels: runPixelsBench,
  queue: runQueueBench,
  robustness: runRobustnessBench,
  scale: runScaleBench,
};

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h') {
    process.stdout.write(`Usage: npm run bench -- [${Object.keys(BENCHES).join('|')}] [options]\n` +
      'ingest options: --data-dir DIR (default ../shared/data) --rounds N (default 5) --no-rest --without-plugin\n' +
      'deid options: --data-dir DIR --count N[,N...] (default 600,2400) --rounds N (default 3) --workers N[,N...] (default 1,2) --profile NAME (default research) --no-internal --cpu-prof DIR\n' +
      'pipeline options: --data-dir DIR --count N (default 1500; 10000 for sustained ingest) --connections N (default 4) --deid-workers N (default 2) --rounds N (default 1) --settle-timeout S\n' +
      'e2e options: --data-dir DIR --runs N (default 20) --series-runs N (default 5) --pause-runs N (default 3, the 5 s pause) --no-anchor\n' +
      'central options: --sites N (default 100) --seconds S per round (default 3) --rounds N (default 3) --poll-seconds S (default 5) --publish-rounds N (default 3) --no-sites\n' +
      'pixels options: --data-dir DIR --rounds N (default 3) --threads N (onnxruntime intra-op, default 1)\n' +
      'deletions options: --data-dir DIR --count N (default 1500) --rounds N (default 1)\n' +
      'queue options: --items N (default 2000) --rounds N (default 3)\n' +
      'scale options: --data-dir DIR --count N (default 1500) --connections N (default 4) --deid-workers N in all (default 2) --rounds N (default 1) --annotate --settle-timeout S\n' +

      'robustness options: --data-dir DIR --annotate (run the annotator too) --verbose (each quarantined file with its reason)\n');
    return 0;
  }
  const named = first !== undefined && !first.startsWith('-');
  const names = named ? [first] : Object.keys(BENCHES);
  const args = named ? rest : argv;
  for (const name of names) {
    const bench = BENCHES[name];
    if (bench === undefined) {
      process.stderr.write(`bench: unknown bench "${name}" (known: ${Object.keys(BENCHES).join(', ')})\n`);
      return 2;
    }
    await bench(args);
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
