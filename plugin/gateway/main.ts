import { setPriority } from 'node:os';
import { join } from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error';
import { errorFields, writeLogEvent } from '../core/log-event';
import { ChangeType, OrthancRest, PluginConnection, ResourceType, SdkClient, type HelloFrame } from '../sdk';
import { ApiRouter } from './api/api-router';
import { AuditLog } from './audit-log';
import { ChangeFollower } from './change-follower';
import { loadAiBridgeConfig } from './config-loader';
import { dataLayout, prepareDataDirectory, sweepSpool } from './data-directory';
import { linkableOrthancStorage } from './orthanc-storage';
import { OrthancLogger } from './logger';
import { MetricsPublisher } from './metrics-publisher';
import { kindQueue, Pipeline } from './pipeline';
import type { JobWork } from './stages/stage';
import { INSTANCE_KIND, InstanceJobs, toJob } from './instance-jobs';
import { DeidentifyStage } from './stages/deidentify-stage';
import { FetchInstanceStage } from './stages/fetch-instance-stage';
import { IngestYield } from './ingest-yield';
import { DeletedInstances } from './deleted-instances';
import { DeidWorkerPool } from './deid/deid-worker-pool';
import { UplinkProcess } from './uplink/uplink-process';
import { openPhiVault } from './vault/open-phi-vault';
import { AnnotationStore, type Annotation } from './annotation/annotation-store';
import { AnnotatorPool } from './annotation/annotator-pool';
import { AnnotateStage, DeliverStage, RelinkStage, type AnnotationWork } from './annotation/annotation-stages';
import { SeriesWatch } from './annotation/series-watch';
import { SupersededResults } from './annotation/superseded-results';
import { StowClient, type StowTarget } from './delivery/stow-rs';
import { QueueAnnotationStage } from './stages/queue-annotation-stage';
import { adminRoutes } from './admin/admin-routes';
import { orthancAuthenticates } from './admin/phi-access';
import { StaticUi } from './admin/static-ui';
import { OHIF_RESULTS_URL, OHIF_STUDY_URL, ohifViewerRoutes } from './admin/ohif-viewer-routes';
import { BulkStore } from './bulk/bulk-store';
import { openWorkQueue } from './work-queue/open-work-queue';
import { retryPolicyFromConfig } from './work-queue/retry-policy';
import { leaseOwner, nodeName } from './work-queue/node-name';
import { followerLock } from './work-queue/follower-lock';
import { drainGate } from './nodes/drain-gate';
import { NodeRegistry } from './nodes/node-registry';
import { nodeRoutes } from './nodes/node-routes';
import { SiteModelsApi } from './api/site-models-api';
import { CategoryRequestStore } from './category-requests/category-request-store';
import { CategoryRequestWorker } from './category-requests/category-request-worker';
import type { CentralLinkSettings } from '../core/annotate-messages';
import { ReportLink } from './reports/report-link';
import { orthancInstanceId } from '../core/branded-ids';

/** sysexits.h EX_CONFIG: the native supervisor does not restart on it. */
const EXIT_CONFIG = 78;
const VERSION = process.env['AIBRIDGE_PLUGIN_VERSION'] ?? '0.0.0';
/** A unit's lease; the pipeline renews it every third of this while it runs, so only a dead node's expire. */
const LEASE_MS = 30_000;
/** A category request's PACS search (not renewed while it runs): long enough for C-MOVE of whole series. */
const SEARCH_LEASE_MS = 15 * 60_000;
/** Node registry heartbeat: how soon a drain reaches its node, and a dead node shows as not alive (three periods). */
const NODE_HEARTBEAT_MS = 5000;

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
  let orthancConfiguration: unknown;
  try {
    const configuration = await sdk.getConfiguration();
    orthancConfiguration = JSON.parse(configuration);
    config = loadAiBridgeConfig(configuration);
    layout = dataLayout(config.DataDirectory, config.DeidDirectory);
    prepareDataDirectory(layout);
  } catch (error) {
    if (error instanceof AiBridgeError) {
      // Refuse to run rather than guess: say which key, then stop for good.
      log.error('configuration-error', { code: error.code, message: `configuration error, the AI bridge stays stopped until it is fixed: ${error.code}: ${error.message}` });
      await connection.sendAndFlush({ k: 'fatal', code: error.code, message: error.message, details: error.details });
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  // Lowered before any work starts; worker processes inherit it.
  setPriority(config.Niceness);
  const retry = retryPolicyFromConfig(config);
  const { queue, sql } = await openWorkQueue(config.Database, layout.stateDb, retry);
  const store = new InstanceJobs(queue, sql);
  // Leases: renewed while a unit runs; a dead node's run out after LEASE_MS and any node takes its work over.
  const node = config.NodeName === '' ? nodeName(layout.root) : config.NodeName;
  const owner = leaseOwner(node);
  const audit = new AuditLog(layout.auditLog);
  const orthanc = new OrthancRest(sdk, connection);
  const swept = sweepSpool(layout);
  if (swept > 0) log.info('spool-swept', { count: swept, message: `${swept} spool file(s) left by the last stop removed from ${layout.spool}` });
  const metrics = new MetricsPublisher(sdk, store);
  // This node's previous process is gone: its leases end now rather than when they run out.
  const recovered = await queue.expireLeasesOf(node);
  if (recovered > 0) log.info('jobs-recovered', { count: recovered, message: `${recovered} job(s) or annotation(s) interrupted by the last stop are due again` });

  const vault = await openPhiVault(config.Database, layout.vaultDb);
  // Before any worker starts: on PostgreSQL every node's workers must use the one shared key.
  await vault.shareSiteKey(layout.siteKey);
  const orthancStorage = linkableOrthancStorage(orthancConfiguration);
  const deidPool = new DeidWorkerPool({
    workers: config.DeidWorkers,
    // Started by path, never imported: the worker's code is not the gateway's.
    script: join(__dirname, '..', 'deid', 'worker-main.js'),
    profile: config.DeidProfile,
    deidDirectory: layout.deid,
    siteKeyFile: layout.siteKey,
    // Originals are linked here from Orthanc's storage, or copied when they cannot be; nothing else of the disk is readable to the worker.
    inputDirectories: [layout.spool],
    cleanPixels: { apply: config.CleanPixels, modalities: config.CleanPixelsModalities, mode: config.CleanPixelsMode },
    requestTimeoutMs: config.DeidTimeoutSeconds * 1000,
  }, log);
  deidPool.start();

  const central = config.Central;
  // The annotator connects to the central server; the gateway only passes the settings on (paths, never the token itself).
  const centralSettings: CentralLinkSettings | undefined = central === undefined ? undefined : {
    url: central.Url, siteId: central.SiteId, siteTokenFile: central.SiteTokenFile, registryPublicKeyFile: central.RegistryPublicKeyFile, pollSeconds: central.PollSeconds,
    uploadForTraining: central.UploadForTraining, answerCategoryRequests: central.AnswerCategoryRequests, uploadAttempts: central.UploadAttempts,
  };
  const annotations = new AnnotationStore(queue, sql);
  const annotator = new AnnotatorPool({
    processes: config.AnnotatorProcesses,
    // Started by path, never imported: the annotator is the de-identified zone.
    script: join(__dirname, '..', 'annotate', 'annotator-main.js'),
    deidDirectory: layout.deid,
    outboxDirectory: layout.outbox,
    modelsDirectory: layout.models,
    centralDirectory: layout.central,
    ...(centralSettings === undefined ? {} : { central: centralSettings }),
    requestTimeoutMs: config.AnnotatorTimeoutSeconds * 1000,
  }, log);
  if (config.Annotate) annotator.start();
  // The uplink is the site's only connection to the central server; it installs models through the annotator.
  const uplink = centralSettings === undefined || !config.Annotate ? undefined : new UplinkProcess({
    script: join(__dirname, '..', 'annotate', 'central-link', 'uplink-main.js'), centralDirectory: layout.central, central: centralSettings,
  }, annotator, log);
  void uplink?.start();

  // The report link (issue 16) needs the work queue, opened further down: the stages reach it through this holder.
  let reports: ReportLink | undefined;
  const ingestYield = new IngestYield(config.YieldToIngestMilliseconds, config.MaxYieldSeconds * 1000);
  const deletedInstances = new DeletedInstances({ orthanc, store, audit, log, deidDirectory: layout.deid, ingestYield });
  const stow = new StowClient(stowTarget(config.DicomWebUrl, config.DicomWebAuthorization, orthancConfiguration));
  // A draining node (node registry) claims nothing new and finishes what it holds.
  let draining = false;
  const annotationPipeline = new Pipeline<Annotation, AnnotationWork, object>(drainGate(annotations.pipelineQueue(), 'claim', () => draining), [
    new AnnotateStage(annotator, annotations),
    new RelinkStage(orthanc, vault, annotations, layout.outbox),
    new DeliverStage(stow, layout.outbox, async (annotation, uids) => {
      await annotations.recordDeliveries(annotation.id, uids);
      ingestYield.expectOwnStores(uids.length);
    }, new SupersededResults(orthanc, annotations, config.DicomWebUrl === '' ? undefined : stow.describe()),
    async (annotation, relinked) => {
      await reports?.queuePreliminaryReport({ annotationId: annotation.id, modelId: annotation.modelId, previousResults: annotation.results, relinked });
    }),
  ], {
    concurrency: config.AnnotatorProcesses,
    auditPrefix: 'annotation',
    owner,
    leaseMs: LEASE_MS,
  }, log, audit, ingestYield, () => {
    metrics.publishSoon();
    // A run that ended may have re-opened its series (a slice arrived meanwhile): judge it again.
    void seriesWatch.reconsider();
  }, (): AnnotationWork => ({}),
  (a) => ({ label: `annotation ${a.id} (${a.unit} ${a.modelId}@${a.modelVersion})`, audit: { annotationId: a.id } }));
  const seriesWatch = new SeriesWatch(orthanc, annotations, config.SeriesQuietSeconds * 1000, config.SeriesEvidence ? {
    cadenceFactor: config.SeriesCadenceFactor,
    pauseFactor: config.SeriesPauseFactor,
    minQuietMs: config.SeriesMinQuietMilliseconds,
    maxQuietMs: config.SeriesMaxQuietSeconds * 1000,
    minSlices: config.SeriesMinSlices,
    spacingTolerance: config.SeriesSpacingTolerance,
  } : undefined, log, () => { annotationPipeline.kick(); });

  const instanceStages = [new FetchInstanceStage(orthanc, (uid) => annotations.ownResult(uid)), new DeidentifyStage(orthanc, deidPool, vault, audit, layout.spool, layout.deid,
    async (instanceId) => reports?.reportForInstance(instanceId), orthancStorage)];
  const pipeline = new Pipeline(drainGate(kindQueue(queue, INSTANCE_KIND, toJob), 'claim', () => draining), config.Annotate
    ? [...instanceStages, new QueueAnnotationStage(annotator, annotations, () => { annotationPipeline.kick(); }, (annotation, member) => {
      seriesWatch.collecting(annotation, member.arrivedAt);
    })]
    : instanceStages, {
    concurrency: config.Concurrency,
    // One lane during ingest bursts: de-identification keeps pace, Orthanc keeps its store path.
    burstConcurrency: 1,
    auditPrefix: 'job',
    owner,
    leaseMs: LEASE_MS,
  }, log, audit, ingestYield, () => { metrics.publishSoon(); }, (): JobWork => ({}),
  (job) => ({ label: `job ${job.id} (instance ${job.instanceId})`, audit: { jobId: job.id, instanceId: job.instanceId } }));

  // One follower of the change log among the nodes; every node hears when it queued work.
  const changeLogLock = followerLock(config.Database);
  changeLogLock.onWork(() => { pipeline.kick(); });
  const follower = new ChangeFollower(orthanc, store, {
    batchSize: config.ChangesBatchSize,
    pollMs: config.ChangesPollSeconds * 1000,
    processExistingInstances: config.ProcessExistingInstances,
    pluginLoadedAt: (await helloReceived).pluginLoadedAt,
    lock: changeLogLock,
  }, log, () => { pipeline.kick(); metrics.publishSoon(); });
  follower.onStableSeries = (ids) => { void seriesWatch.stable(ids); };

  const answering = config.Annotate && central?.AnswerCategoryRequests === true;
  const categoryRequests = answering ? new CategoryRequestStore(queue, sql) : undefined;
  // QIDO-RS goes where CategorySearch says; empty: this Orthanc's DICOMweb, authenticated the way STOW-RS to it is.
  const search = central?.CategorySearch;
  const searchTarget = search === undefined || search.DicomWebUrl === ''
    ? stowTarget('', search?.DicomWebAuthorization ?? '', orthancConfiguration)
    : { url: search.DicomWebUrl, ...(search.DicomWebAuthorization === '' ? {} : { authorization: search.DicomWebAuthorization }) };
  const requestWorker = categoryRequests === undefined || central === undefined ? undefined : new CategoryRequestWorker({
    pollMs: central.PollSeconds * 1000,
    dicomWeb: searchTarget,
    limits: central.CategoryRequestLimits,
    owner,
    searchLeaseMs: SEARCH_LEASE_MS,
    ...(central.CategorySearch.DimsePeer === undefined ? {} : { dimsePeer: central.CategorySearch.DimsePeer }),
  }, annotator, categoryRequests, store, orthanc, log, () => { pipeline.kick(); });

  const dataDirectory = layout.root;
  const bulk = new BulkStore(queue, sql);
  const registry = await NodeRegistry.open(sql, { name: node, pid: process.pid, version: VERSION, heartbeatMs: NODE_HEARTBEAT_MS });
  registry.onStateChange = (state) => {
    draining = state === 'draining';
    log.info(draining ? 'node-draining' : 'node-resumed', { message: `node ${registry.name} ${draining ? 'draining: it claims no new work and hands the change log on' : 'active again'}` });
    if (draining) void follower.standDown();
    else {
      follower.resume();
      pipeline.kick();
      annotationPipeline.kick();
    }
  };
  if (config.Reports?.Enabled === true) {
    reports = new ReportLink(config.Reports, drainGate(queue, 'claim', () => draining), owner, sql, audit, orthanc, log, async (keys, why) => {
      const query = keys.studyInstanceUid !== '' ? { StudyInstanceUID: keys.studyInstanceUid }
        : { AccessionNumber: keys.accessionNumber, ...(keys.patientId === '' ? {} : { PatientID: keys.patientId }) };
      const found = await orthanc.postJson('/tools/find', { Level: 'Instance', Query: query });
      const ids = Array.isArray(found) ? found.filter((id): id is string => typeof id === 'string') : [];
      if (ids.length > 0) {
        await store.enqueueInstances(ids.map((id) => orthancInstanceId(id)), why);
        pipeline.kick();
      }
      return ids.length;
    });
  }
  const rawSection = (orthancConfiguration as Record<string, unknown>)['AiBridge'];
  const admin = adminRoutes({
    store, annotations, bulk, audit, orthanc, config,
    // Built by Vite beside the compiled gateway (scripts/bootstrap.sh).
    ui: new StaticUi(join(__dirname, '..', '..', 'web-ui')),
    rawConfig: typeof rawSection === 'object' && rawSection !== null ? rawSection as Record<string, unknown> : {},
    phi: { viewers: config.PhiViewers, orthancAuthenticates: orthancAuthenticates(orthancConfiguration) },
    onQueued: () => { pipeline.kick(); metrics.publishSoon(); },
  });
  const router = new ApiRouter({
    store,
    annotations,
    // A ViewerUrl the site set wins; else the OHIF viewer this bridge serves, when on.
    ...(config.ViewerUrl !== '' || !config.OhifViewer ? { viewerUrl: config.ViewerUrl } : { viewerUrl: OHIF_STUDY_URL, resultsViewerUrl: OHIF_RESULTS_URL }),
    studyOf: async (instanceId) => {
      try {
        const study = await orthanc.getJson(`/instances/${instanceId}/study`) as { ID?: unknown; MainDicomTags?: Record<string, unknown> };
        const uid = study.MainDicomTags?.['StudyInstanceUID'];
        return typeof study.ID === 'string' ? { orthancId: study.ID, studyInstanceUid: typeof uid === 'string' ? uid : null } : undefined;
      } catch {
        return undefined;
      }
    },
    onRequeued: () => { pipeline.kick(); },
    onAnnotationRequeued: () => { annotationPipeline.kick(); },
    models: new SiteModelsApi(config.Annotate ? annotator : undefined, categoryRequests, central?.CategoryRequestLimits),
    audit,
    health: async () => {
      const jobs = await store.countsByState();
      return {
        status: 'ok', version: VERSION, gatewayPid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        orthancVersion: hello?.orthancVersion ?? 'unknown', pluginVersion: hello?.pluginVersion ?? VERSION,
        dataDirectory, changeCursor: (await store.changeCursor()) ?? null, queueDepth: jobs.queued + jobs.running + jobs.retrying, jobs,
        annotations: await annotations.countsByState(),
        models: annotator.models().map((m) => ({ id: m.id, version: m.version, name: m.name, unit: m.unit })),
        deid: {
          profile: config.DeidProfile, workers: config.DeidWorkers, readyWorkers: deidPool.readyWorkers,
          seals: deidPool.sealReports().map((r) => r.seal), refused: deidPool.refusals(),
        },
        annotator: config.Annotate
          ? { processes: config.AnnotatorProcesses, ready: annotator.readyCount, seals: annotator.sealReports(), refused: annotator.refusals() }
          : null,
        uplink: uplink === undefined ? null : { seal: uplink.seal(), refused: uplink.refusals() },
        cluster: registry.view(),
        deletedInstances: deletedInstances.view(),
      };
    },
  }, [...admin, ...ohifViewerRoutes(config.OhifViewer, join(__dirname, '..', '..', '..'), orthancConfiguration), ...(reports?.routes() ?? ReportLink.disabledRoutes()), ...nodeRoutes(registry, audit)]);
  connection.onHttp((request) => router.handle(request));

  connection.on('change', (change) => {
    if (change.changeType === ChangeType.NewInstance) {
      ingestYield.noteStore();
      // A lone instance is read at once; during a burst one read of /changes covers many.
      if (ingestYield.inBurst()) follower.pokeSoon();
      else void follower.poke();
    } else if (change.changeType === ChangeType.Deleted && change.resourceType === ResourceType.Instance) {
      deletedInstances.noteDeleted(change.resourceId);
    }
  });

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('gateway-stopping', { message: `gateway stopping (${why})` });
    await follower.stop();
    await deletedInstances.stop();
    seriesWatch.stop();
    requestWorker?.stop();
    await reports?.stop();
    await pipeline.stop();
    await annotationPipeline.stop();
    await deidPool.stop();
    await uplink?.stop();
    await annotator.stop();
    metrics.stop();
    await registry.stop();
    await vault.close();
    await queue.close();
    connection.close();
    process.exit(0);
  };
  connection.on('shutdown', () => { void stop('Orthanc is stopping'); });
  // The socket closing means the plugin (or Orthanc) is gone: nobody to work for.
  connection.on('closed', () => { void stop('plugin socket closed'); });
  process.on('SIGTERM', () => { void stop('SIGTERM'); });

  await follower.start();
  // In the background: a large archive's check takes a while, and it steps aside for Orthanc's stores.
  void deletedInstances.checkSettled().catch((error: unknown) => {
    log.warn('deleted-instances-check-failed', { ...errorFields(error), stage: 'deleted-instances', message: `start-up check for instances deleted from Orthanc stopped: ${errorFields(error).message}` });
  });
  registry.start(() => follower.leading);
  await reports?.start();
  pipeline.kick();
  if (config.Annotate) {
    seriesWatch.start();
    annotationPipeline.kick();
    requestWorker?.start();
  }
  log.info('gateway-ready', { version: VERSION, pid: process.pid, message: `gateway ${VERSION} ready (pid ${process.pid}, data ${layout.root}, concurrency ${config.Concurrency})` });
}

/**
 * Empty DicomWebUrl: this Orthanc's DICOMweb plugin over loopback HTTP. Its
 * STOW-RS route is a chunked-stream handler, which Orthanc's in-process REST
 * calls cannot reach, so the gateway is an HTTP client of its own Orthanc,
 * with DicomWebAuthorization or else, when Orthanc asks for credentials, its
 * first registered user.
 */
function stowTarget(url: string, authorization: string, orthancConfiguration: unknown): StowTarget {
  const withAuthorization = (value: string): { authorization?: string } => (value === '' ? {} : { authorization: value });
  if (url !== '') return { url, ...withAuthorization(authorization) };
  const config = typeof orthancConfiguration === 'object' && orthancConfiguration !== null ? orthancConfiguration as Record<string, unknown> : {};
  const dicomWeb = typeof config['DicomWeb'] === 'object' && config['DicomWeb'] !== null ? config['DicomWeb'] as Record<string, unknown> : {};
  const root = typeof dicomWeb['Root'] === 'string' && dicomWeb['Root'] !== '' ? dicomWeb['Root'] : '/dicom-web/';
  const port = typeof config['HttpPort'] === 'number' ? config['HttpPort'] : 8042;
  const scheme = config['SslEnabled'] === true ? 'https' : 'http';
  // Orthanc's own rule: authentication is on when asked for, or by default when remote access is allowed.
  const authenticated = config['AuthenticationEnabled'] === true || (config['AuthenticationEnabled'] === undefined && config['RemoteAccessAllowed'] === true);
  const users = typeof config['RegisteredUsers'] === 'object' && config['RegisteredUsers'] !== null ? Object.entries(config['RegisteredUsers'] as Record<string, unknown>) : [];
  const firstUser = users.find((entry): entry is [string, string] => typeof entry[1] === 'string');
  const basic = authenticated && authorization === '' && firstUser !== undefined
    ? `Basic ${Buffer.from(`${firstUser[0]}:${firstUser[1]}`).toString('base64')}` : authorization;
  return { url: `${scheme}://127.0.0.1:${port}${root.replace(/\/$/, '')}`, ...withAuthorization(basic) };
}

main().catch((error: unknown) => {
  writeLogEvent('ai-bridge', 'error', 'gateway-start-failed', { ...errorFields(error),
    message: `gateway failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}` });
  process.exit(1);
});
