// First, before anything that could start a thread (seal-addon-first.ts).
import '../seal/seal-addon-first';

import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, join, resolve, sep } from 'node:path';

import type {
  AckReply, ActiveModel, ActiveModelsReply, AnnotateFailure, AnnotateRequest, AnnotateSuccess, AnnotatorInitRequest, AnnotatorReady, CategoryProgressRequest,
  CentralStatusReply, CentralUploadRequest, InstallPackageReply, InstallPackageRequest, ModelChangeReply, ModelsReply,
} from '../core/annotate-messages';
import { AiBridgeError } from '../core/ai-bridge-error';
import type { Frame } from '../core/frame-codec';
import { FrameChannel } from '../core/frame-channel';
import { errorFields, writeLogEvent } from '../core/log-event';
import { annotateMembers, insideStore } from './annotate-members';
import { ModelRegistry } from './models/model-registry';
import { describeInstalled, describeModel } from './models/installed-models';
import { LinkStateFile, writeJsonAtomic } from './central-link/link-state';
import { registryInstaller } from './central-link/model-installer';
import { gatewayProgressFile, type GatewayProgress } from './central-link/request-progress';
import { UploadQueue } from './central-link/upload-queue';
import { sealShortfall } from '../core/seal-report';
import { runAfterSealHook } from '../seal/after-seal-hook';
import { idleScheduling } from '../seal/idle-scheduling';
import { runtimeReadablePaths } from '../seal/runtime-paths';
import { sealProcess } from '../seal/seal-process';

/**
 * The annotator (de-identified zone). It reads de-identified copies from
 * deid/, runs the model the registry selects for their scan category, and
 * writes the GSPS and the TID 1500 SR it builds to outbox/<key>/. It never
 * sees an original byte or UID: the gateway relinks its results. It seals
 * itself on the init request, before any other work: no socket at all (the
 * central server is the uplink's business), reads only deid/, models/,
 * outbox/, central/ and its own code, writes only outbox/, models/ and
 * central/ (upload copies, request progress, staged packages it installed).
 */

/** Packages built from this repository, installed (signed by the site key) on first start. */
const BUNDLED_PACKAGES = join(__dirname, '..', '..', '..', 'model-packages');

const channel = new FrameChannel(new Socket({ fd: 3, readable: true, writable: true }));
let registry: ModelRegistry | undefined;
let deidDirectory = '';
let outboxDirectory = '';
let centralDirectory = '';
let centralSettings: AnnotatorInitRequest['central'];
let uploads: UploadQueue | undefined;
let queue: Promise<void> = Promise.resolve();

/**
 * Answered at once, between the slices of a running annotation: appending a
 * training copy to the upload queue (one file write) must not wait behind a
 * whole series (the gateway sends it alongside: ProcessPool.requestAlongside).
 * The model choice for each instance is the gateway's (selectModel, on the
 * worker's de-identified values and the rules active-models lists), so no
 * instance job waits for this process at all.
 */
const AT_ONCE = new Set(['central-upload']);

channel.on('request', (frame) => {
  if (AT_ONCE.has(frame.header.k)) {
    void handle(frame);
    return;
  }
  // Everything else one at a time: inference is CPU work, and model changes must not interleave with it.
  queue = queue.then(() => handle(frame)).catch(() => undefined);
});
channel.on('closed', () => { process.exit(0); });

async function handle(frame: Frame): Promise<void> {
  const kind = frame.header.k;
  try {
    if (kind === 'init') channel.reply(frame, { ...(await initialise(frame.header as unknown as AnnotatorInitRequest)) });
    else if (kind === 'active-models') channel.reply(frame, { ...activeModelsReply() });
    else if (kind === 'annotate') channel.reply(frame, { ...(await annotate(frame.header as unknown as AnnotateRequest)) });
    else if (kind === 'list-models') channel.reply(frame, { ...listModels() });
    else if (kind === 'activate-model' || kind === 'rollback-model') channel.reply(frame, { ...changeModel(frame.header) });
    else if (kind === 'central-status') channel.reply(frame, { ...centralStatus() });
    else if (kind === 'central-upload') channel.reply(frame, { ...queueUpload(frame.header as unknown as CentralUploadRequest) });
    else if (kind === 'category-progress') channel.reply(frame, { ...recordProgress(frame.header as unknown as CategoryProgressRequest) });
    else if (kind === 'install-package') channel.reply(frame, { ...(await installPackage(frame.header as unknown as InstallPackageRequest)) });
    else channel.reply(frame, { k: 'error', message: `unknown request ${kind}` });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (kind === 'annotate') channel.reply(frame, { ...failure(error) });
    else if (kind === 'init') {
      channel.reply(frame, { k: 'initFailed', code: error instanceof AiBridgeError ? error.code : 'AIB_ANNOTATE_FAILED', message });
      // Sealed or half-sealed, an annotator that could not start must not linger.
      setTimeout(() => { process.exit(1); }, 100);
    } else channel.reply(frame, { k: 'error', message });
  }
}

async function initialise(init: AnnotatorInitRequest): Promise<AnnotatorReady> {
  if (registry !== undefined) throw new Error('already initialised');
  deidDirectory = resolve(init.deidDirectory);
  outboxDirectory = resolve(init.outboxDirectory);
  centralDirectory = resolve(init.centralDirectory);
  const modelsDirectory = resolve(init.modelsDirectory);
  for (const dir of [modelsDirectory, outboxDirectory, centralDirectory]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Synchronous up to here: no thread may start before the seal (seal-process.ts).
  const seal = sealProcess({
    readablePaths: [...runtimeReadablePaths(), deidDirectory],
    writablePaths: [modelsDirectory, outboxDirectory, centralDirectory],
  });
  const shortfall = sealShortfall('annotator', seal);
  if (shortfall !== undefined) throw new AiBridgeError('AIB_SEAL_INCOMPLETE', `sealed incompletely: ${shortfall}`);
  const models = new ModelRegistry(modelsDirectory);
  const installed = new Set(models.list().flatMap((m) => m.versions.map((v) => `${m.id}@${v}`)));
  for (const entry of readdirSync(BUNDLED_PACKAGES, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(BUNDLED_PACKAGES, entry.name);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { id: string; version: string };
    // A site that rolled back or installed another version keeps its choice: bundled versions install once.
    if (installed.has(`${manifest.id}@${manifest.version}`)) continue;
    try {
      await models.installBuilt(dir);
    } catch (error) {
      // One package that fails its checks must not stop the others, nor the annotator: its category gets "no applicable model".
      writeLogEvent('annotator', 'warning', 'bundled-model-not-installed', { stage: 'annotator', model: manifest.id, version: manifest.version, ...errorFields(error),
        message: `bundled model ${manifest.id} ${manifest.version} not installed: ${errorFields(error).message}` });
    }
  }
  registry = models;
  centralSettings = init.central;
  // The link itself runs in the uplink; the annotator queues copies for it and installs what it staged.
  if (centralSettings !== undefined) uploads = new UploadQueue(centralDirectory, deidDirectory);
  await runAfterSealHook('annotator', outboxDirectory);
  // After the bundled installs (their commissioning runs inference at full priority, within the ready timeout).
  const notIdle = idleScheduling();
  if (notIdle !== '') writeLogEvent('annotator', 'warning', 'idle-scheduling-refused', { stage: 'annotator', message: `inference keeps niceness only: ${notIdle}` });
  return { k: 'ready', models: activeModels(models), seal };
}

/** A package the uplink downloaded and checked against the catalogue, staged in central/staging/. */
async function installPackage(request: InstallPackageRequest): Promise<InstallPackageReply> {
  if (registry === undefined) throw new Error('not initialised');
  const staging = resolve(centralDirectory, request.staging);
  if (!staging.startsWith(`${join(centralDirectory, 'staging')}${sep}`)) {
    return { k: 'package-installed', ok: false, code: 'AIB_ANNOTATE_BAD_REQUEST', message: 'a staging path outside central/staging/', transient: false };
  }
  try {
    const { commissioningFraction } = await registryInstaller(registry).install(staging, { keyId: request.authorKeyId, publicKeyPem: request.authorKeyPem });
    return { k: 'package-installed', ok: true, commissioningFraction };
  } catch (error) {
    if (error instanceof AiBridgeError) return { k: 'package-installed', ok: false, code: error.code, message: error.message, transient: error.transient };
    return { k: 'package-installed', ok: false, code: 'AIB_CENTRAL_PACKAGE_INVALID', message: error instanceof Error ? error.message : String(error), transient: false };
  }
}

function listModels(): ModelsReply {
  if (registry === undefined) throw new Error('not initialised');
  return { k: 'models', models: describeInstalled(registry) };
}

function changeModel(header: Readonly<Record<string, unknown>>): ModelChangeReply {
  if (registry === undefined) throw new Error('not initialised');
  const id = String(header['modelId']);
  try {
    if (header['k'] === 'rollback-model') registry.rollback(id);
    else registry.activate(id, String(header['version']));
    return { k: 'model-changed', ok: true, model: describeModel(registry, id) };
  } catch (error) {
    if (error instanceof AiBridgeError) return { k: 'model-changed', ok: false, code: error.code, message: error.message };
    throw error;
  }
}

function centralStatus(): CentralStatusReply {
  if (centralSettings === undefined || uploads === undefined) return { k: 'central-status', link: null, requests: [] };
  const state = new LinkStateFile(centralDirectory);
  return { k: 'central-status', link: state.status(centralSettings.url, uploads.size), requests: state.requests() };
}

function queueUpload(request: CentralUploadRequest): AckReply {
  if (uploads === undefined) return { k: 'ack', ok: false, message: 'no central server is configured' };
  deidFile(request.deidPath);
  uploads.add(request.deidPath, request.requestId);
  return { k: 'ack', ok: true };
}

function recordProgress(request: CategoryProgressRequest): AckReply {
  if (centralSettings === undefined) return { k: 'ack', ok: false, message: 'no central server is configured' };
  const progress: GatewayProgress = {
    studiesFound: request.studiesFound, instancesQueued: request.instancesQueued, searchComplete: request.searchComplete, failed: request.failed,
    ...(request.decision === 'awaiting-approval' || request.decision === 'declined' ? { decision: request.decision } : {}),
    ...(request.detail === undefined ? {} : { detail: request.detail }),
  };
  const file = gatewayProgressFile(centralDirectory, request.requestId);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeJsonAtomic(file, progress);
  return { k: 'ack', ok: true };
}

function activeModels(models: ModelRegistry): ActiveModel[] {
  return models.list().flatMap((listing) => {
    if (listing.active === undefined) return [];
    const { manifest } = models.load(listing.id);
    return [{
      id: manifest.id, version: manifest.version, name: manifest.name, unit: manifest.category.seriesLevel ? 'series' : 'instance',
      category: manifest.category,
    }];
  });
}

function activeModelsReply(): ActiveModelsReply {
  if (registry === undefined) throw new Error('not initialised');
  return { k: 'active-models', models: activeModels(registry) };
}

/** A path the gateway names must stay inside the de-identified store. */
function deidFile(relative: string): string {
  return insideStore(deidDirectory, relative);
}

async function annotate(request: AnnotateRequest): Promise<AnnotateSuccess> {
  if (registry === undefined) throw new Error('not initialised');
  return annotateMembers(registry, { deidDirectory, outboxDirectory }, request);
}

function failure(error: unknown): AnnotateFailure {
  if (error instanceof AiBridgeError) return { k: 'annotated', ok: false, code: error.code, message: error.message, transient: error.transient };
  return { k: 'annotated', ok: false, code: 'AIB_ANNOTATE_FAILED', message: error instanceof Error ? error.message : String(error), transient: false };
}
