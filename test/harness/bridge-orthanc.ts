import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { HealthResponse, JobListResponse, JobView } from '../../plugin/core/admin-api';
import { startOrthanc, type OrthancLaunchOptions, type RunningOrthanc } from '../../plugin/cli/orthanc-launcher';

/** ../shared/data beside the repo: the third-party DICOM the tests use. */
export const SHARED_DATA = join(__dirname, '..', '..', '..', '..', 'shared', 'data');

export function sharedFile(relative: string): string {
  const path = join(SHARED_DATA, relative);
  if (!existsSync(path)) throw new Error(`test data ${path} is missing: the tests read ../shared/data beside the repository`);
  return path;
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `aib-${prefix}-`));
  return { path, remove: () => { rmSync(path, { recursive: true, force: true }); } };
}

/**
 * One node of several: Orthanc's index in PostgreSQL (Debian's
 * orthanc-postgresql, several writers, no lock), its storage in a folder all
 * nodes share, and the bridge's queue, vault and de-identified store shared
 * likewise (README, "Several Orthanc nodes").
 */
export interface ClusterNodeOptions {
  /** postgresql://user@host:port/database, as the index plugin and AiBridge.Database take it. */
  readonly databaseUri: string;
  /** Orthanc's StorageDirectory, the same for every node. */
  readonly storageDirectory: string;
  /** AiBridge.DeidDirectory, the same for every node. */
  readonly deidDirectory: string;
  readonly nodeName: string;
}

export const POSTGRESQL_INDEX_PLUGIN = '/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so';

export type BridgeOptions = Omit<OrthancLaunchOptions, 'dataDir'> & { readonly dataDir?: string; readonly cluster?: ClusterNodeOptions };

/** The Orthanc settings and AiBridge keys that make a node of a cluster. */
function clusterSettings(cluster: ClusterNodeOptions, aiBridge: Readonly<Record<string, unknown>>): { extraConfig: Record<string, unknown>; aiBridge: Record<string, unknown> } {
  return {
    extraConfig: {
      Plugins: [POSTGRESQL_INDEX_PLUGIN],
      StorageDirectory: cluster.storageDirectory,
      // Lock false: several Orthanc processes write the one index (PostgreSQL plugin 4.0).
      PostgreSQL: { EnableIndex: true, EnableStorage: false, ConnectionUri: cluster.databaseUri, Lock: false, IndexConnectionsCount: 2 },
    },
    aiBridge: {
      ...aiBridge, NodeName: cluster.nodeName, DeidDirectory: cluster.deidDirectory,
      Database: { Backend: 'postgresql', ConnectionUri: cluster.databaseUri },
    },
  };
}

/** A real Orthanc with the real plugin, waiting until the gateway answers health. */
export async function startBridgeOrthanc(options: BridgeOptions = {}): Promise<RunningOrthanc & { cleanup: () => Promise<void> }> {
  const temp = options.dataDir === undefined ? tempDir('orthanc') : undefined;
  const dataDir = options.dataDir ?? temp?.path ?? '';
  // Annotation is on by default in the product; tests of other parts leave the annotator out (CPU), annotation tests turn it on.
  const aiBridge = options.aiBridge ?? { ChangesPollSeconds: 2, Annotate: false };
  const { cluster, ...launch } = options;
  const node = cluster === undefined || aiBridge === false ? undefined : clusterSettings(cluster, aiBridge);
  const orthanc = await startOrthanc({
    ...launch, dataDir, aiBridge: node?.aiBridge ?? aiBridge,
    ...(node === undefined ? {} : { extraConfig: { ...node.extraConfig, ...launch.extraConfig } }),
  });
  if (options.aiBridge !== false) await waitForHealth(orthanc);
  return Object.assign(orthanc, {
    cleanup: async () => {
      await orthanc.stop();
      temp?.remove();
    },
  });
}

export async function health(orthanc: RunningOrthanc): Promise<HealthResponse> {
  return orthanc.json<HealthResponse>('GET', '/ai-bridge/health');
}

/**
 * Polls until `probe` returns a value. Not a performance limit: the bound only
 * keeps a failed test's poll loop from outliving the test.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, intervalMs = 200): Promise<T> {
  let lastError: unknown;
  const rounds = Math.ceil(170_000 / intervalMs);
  for (let round = 0; round < rounds; round++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    if (round % 50 === 49) process.stderr.write(`    … still waiting for ${what}${lastError instanceof Error ? ` (${lastError.message})` : ''}\n`);
  }
  throw new Error(`gave up waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}

export async function waitForHealth(orthanc: RunningOrthanc, notPid?: number): Promise<HealthResponse> {
  return eventually(async () => {
    const response = await orthanc.request('GET', '/ai-bridge/health');
    if (response.status !== 200) return undefined;
    const body = JSON.parse(response.body.toString('utf8')) as HealthResponse;
    return body.gatewayPid === notPid ? undefined : body;
  }, 'the gateway to answer /ai-bridge/health');
}

export async function allJobs(orthanc: RunningOrthanc): Promise<JobView[]> {
  const page = await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs?limit=1000');
  return [...page.jobs];
}

/** Waits until `count` jobs exist and none is queued, running or retrying. */
export async function waitForSettledJobs(orthanc: RunningOrthanc, count: number): Promise<JobView[]> {
  return eventually(async () => {
    const jobs = await allJobs(orthanc);
    if (jobs.length < count) return undefined;
    return jobs.every((j) => j.state === 'done' || j.state === 'quarantined') ? jobs : undefined;
  }, `${count} settled jobs`);
}

export async function uploadFile(orthanc: RunningOrthanc, file: string): Promise<{ status: number; id?: string }> {
  const response = await orthanc.request('POST', '/instances', readFileSync(file));
  if (response.status !== 200) return { status: response.status };
  const body = JSON.parse(response.body.toString('utf8')) as { ID: string };
  return { status: response.status, id: body.ID };
}

/** POSTs each file, waits until every job is settled, and returns the files' jobs in the files' order. */
export async function storeAndSettle(orthanc: RunningOrthanc, files: readonly string[]): Promise<JobView[]> {
  const before = (await allJobs(orthanc)).length;
  const ids: string[] = [];
  for (const file of files) {
    const sent = await uploadFile(orthanc, file);
    if (sent.id === undefined) throw new Error(`Orthanc refused ${file} (${String(sent.status)})`);
    ids.push(sent.id);
  }
  const jobs = await waitForSettledJobs(orthanc, before + files.length);
  return ids.map((id) => {
    const job = jobs.find((j) => j.instanceId === id);
    if (job === undefined) throw new Error(`no job for ${id}`);
    return job;
  });
}
