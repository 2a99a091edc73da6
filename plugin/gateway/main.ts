import { setPriority } from 'node:os';
import { join } from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error';
import { ChangeType, OrthancRest, PluginConnection, SdkClient, type HelloFrame } from '../sdk';
import { ApiRouter } from './api/api-router';
import { AuditLog } from './audit-log';
import { ChangeFollower } from './change-follower';
import { loadAiBridgeConfig } from './config-loader';
import { dataLayout, prepareDataDirectory } from './data-directory';
import { OrthancLogger } from './logger';
import { MetricsPublisher } from './metrics-publisher';
import { Pipeline } from './pipeline';
import { SqliteJobStore } from './sqlite-job-store';
import { DeidentifyStage } from './stages/deidentify-stage';
import { FetchInstanceStage } from './stages/fetch-instance-stage';
import { IngestYield } from './ingest-yield';
import { DeidWorkerPool } from './deid/deid-worker-pool';
import { PhiVault } from './vault/phi-vault';

/** sysexits.h EX_CONFIG: the native supervisor does not restart on it. */
const EXIT_CONFIG = 78;
const VERSION = process.env['AIBRIDGE_PLUGIN_VERSION'] ?? '0.0.0';

async function main(): Promise<void> {
  const startedAt = Date.now();
  const connection = PluginConnection.fromFd(Number(process.env['AIBRIDGE_FD'] ?? '3'));
  let hello: HelloFrame | undefined;
  // The plugin sends hello first, before answering any call.
  const helloReceived = new Promise<HelloFrame>((resolve) => {
    connection.on('hello', (frame) => { hello = frame; resolve(frame); });
  });
  const sdk = new SdkClient(connection);
  const log = new OrthancLogger(sdk);

  let config;
  let layout;
  try {
    config = loadAiBridgeConfig(await sdk.getConfiguration());
    layout = dataLayout(config.DataDirectory);
    prepareDataDirectory(layout);
  } catch (error) {
    if (error instanceof AiBridgeError) {
      // Refuse to run rather than guess: say which key, then stop for good.
      log.error(`configuration error, the AI bridge stays stopped until it is fixed: ${error.code}: ${error.message}`);
      await connection.sendAndFlush({ k: 'fatal', code: error.code, message: error.message, details: error.details });
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  // Lowered before any work starts; worker processes inherit it.
  setPriority(config.Niceness);
  const store = new SqliteJobStore(layout.stateDb);
  const audit = new AuditLog(layout.auditLog);
  const orthanc = new OrthancRest(sdk);
  const metrics = new MetricsPublisher(sdk, store);
  const recovered = store.recoverInterrupted();
  if (recovered > 0) log.info(`${recovered} job(s) interrupted by the last stop are queued again`);

  const vault = new PhiVault(layout.vaultDb);
  const deidPool = new DeidWorkerPool({
    workers: config.DeidWorkers,
    // Started by path, never imported: the worker's code is not the gateway's.
    script: join(__dirname, '..', 'deid', 'worker-main.js'),
    profile: config.DeidProfile,
    deidDirectory: layout.deid,
    siteKeyFile: layout.siteKey,
  }, log);
  deidPool.start();

  const ingestYield = new IngestYield(config.YieldToIngestMilliseconds, config.MaxYieldSeconds * 1000);
  const pipeline = new Pipeline(store, [new FetchInstanceStage(orthanc), new DeidentifyStage(orthanc, deidPool, vault)], {
    concurrency: config.Concurrency,
    maxAttempts: config.MaxAttempts,
    retryBackoffMs: config.RetryBackoffSeconds * 1000,
  }, log, audit, ingestYield, () => { metrics.publishSoon(); });

  const follower = new ChangeFollower(orthanc, store, {
    batchSize: config.ChangesBatchSize,
    pollMs: config.ChangesPollSeconds * 1000,
    processExistingInstances: config.ProcessExistingInstances,
    pluginLoadedAt: (await helloReceived).pluginLoadedAt,
  }, log, () => { pipeline.kick(); metrics.publishSoon(); });

  const dataDirectory = layout.root;
  const router = new ApiRouter({
    store,
    onRequeued: () => { pipeline.kick(); },
    health: () => {
      const jobs = store.countsByState();
      return {
        status: 'ok', version: VERSION, gatewayPid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        orthancVersion: hello?.orthancVersion ?? 'unknown', pluginVersion: hello?.pluginVersion ?? VERSION,
        dataDirectory, changeCursor: store.changeCursor() ?? null, queueDepth: jobs.queued + jobs.running + jobs.retrying, jobs,
        deid: { profile: config.DeidProfile, workers: config.DeidWorkers, readyWorkers: deidPool.readyWorkers, seals: deidPool.sealReports().map((r) => r.seal) },
      };
    },
  });
  connection.onHttp((request) => router.handle(request));

  connection.on('change', (change) => {
    if (change.changeType === ChangeType.NewInstance) {
      ingestYield.noteStore();
      follower.pokeSoon();
    }
  });

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`gateway stopping (${why})`);
    await follower.stop();
    await pipeline.stop();
    await deidPool.stop();
    metrics.stop();
    vault.close();
    store.close();
    connection.close();
    process.exit(0);
  };
  connection.on('shutdown', () => { void stop('Orthanc is stopping'); });
  // The socket closing means the plugin (or Orthanc) is gone: nobody to work for.
  connection.on('closed', () => { void stop('plugin socket closed'); });
  process.on('SIGTERM', () => { void stop('SIGTERM'); });

  await follower.start();
  pipeline.kick();
  log.info(`gateway ${VERSION} ready (pid ${process.pid}, data ${layout.root}, concurrency ${config.Concurrency})`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[ai-bridge] gateway failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
