import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import Ajv, { type ErrorObject } from 'ajv';

import { ConfigError } from './gateway-errors';
import type { DatabaseConfig } from './work-queue/open-work-queue';

/** The validated AiBridge section, defaults applied (config/aibridge.schema.json). */
export interface AiBridgeConfig {
  readonly Enable: boolean;
  readonly NodeCommand: string;
  readonly GatewayScript?: string;
  readonly DataDirectory: string;
  readonly Database: DatabaseConfig;
  /** Empty: deid/ of the DataDirectory; several nodes: a folder they all mount. */
  readonly DeidDirectory: string;
  /** Empty: host name and a hash of the data directory (work-queue/node-name.ts). */
  readonly NodeName: string;
  readonly ProcessExistingInstances: boolean;
  readonly Concurrency: number;
  readonly Niceness: number;
  readonly YieldToIngestMilliseconds: number;
  readonly MaxYieldSeconds: number;
  readonly MaxAttempts: number;
  readonly RetryBackoffSeconds: number;
  readonly DeidProfile: 'basic' | 'research';
  readonly DeidWorkers: number;
  readonly DeidTimeoutSeconds: number;
  readonly ChangesBatchSize: number;
  readonly ChangesPollSeconds: number;
  readonly Annotate: boolean;
  readonly AnnotatorProcesses: number;
  readonly AnnotatorTimeoutSeconds: number;
  readonly DicomWebUrl: string;
  readonly DicomWebAuthorization: string;
  readonly SeriesQuietSeconds: number;
  readonly SeriesEvidence: boolean;
  readonly SeriesCadenceFactor: number;
  readonly SeriesPauseFactor: number;
  readonly SeriesMinQuietMilliseconds: number;
  readonly SeriesMaxQuietSeconds: number;
  readonly SeriesMinSlices: number;
  readonly SeriesSpacingTolerance: number;
  readonly PhiViewers: readonly string[];
  readonly ViewerUrl: string;
  readonly OhifViewer: boolean;
  readonly CleanPixels: 'auto' | 'always' | 'never';
  readonly CleanPixelsModalities: readonly string[];
  readonly CleanPixelsMode: 'all-text' | 'identifiers-only';
  readonly Central?: CentralConfig;
  readonly Reports?: ReportsConfig;
}

/** AiBridge.Reports: the report system link (issue 16). */
export interface ReportsConfig {
  readonly Enabled: boolean;
  readonly ListenPort?: number;
  readonly ListenAddress: string;
  readonly AllowedPeers: readonly string[];
  readonly MaxMessageBytes: number;
  readonly Tls?: { readonly CertificateFile: string; readonly KeyFile: string; readonly CaFile?: string };
  readonly Outbound?: {
    readonly Host: string;
    readonly Port: number;
    readonly AckTimeoutSeconds: number;
    readonly SendingApplication: string;
    readonly SendingFacility: string;
    readonly ReceivingApplication: string;
    readonly ReceivingFacility: string;
  };
}

export interface DimsePeerConfig {
  readonly Aet: string;
  readonly Host: string;
  readonly Port: number;
  readonly CallingAet: string;
  readonly MoveDestination: string;
}

/** AiBridge.Central.CategoryRequestLimits: what the site gives to category requests, whatever is asked. */
export interface CategoryRequestLimits {
  readonly Categories: readonly { readonly Modality: string; readonly BodyPart: string }[];
  readonly StudiesPerRequest: number;
  readonly StudiesPerMonth: number;
}

/** AiBridge.Central: read by the gateway, used by the annotator (the only part that connects to the central server). */
export interface CentralConfig {
  readonly Url: string;
  readonly SiteId: string;
  readonly SiteTokenFile: string;
  readonly RegistryPublicKeyFile: string;
  readonly PollSeconds: number;
  readonly UploadForTraining: boolean;
  readonly AnswerCategoryRequests: boolean;
  readonly CategoryRequestLimits: CategoryRequestLimits;
  readonly UploadAttempts: number;
  readonly CategorySearch: {
    readonly DicomWebUrl: string;
    readonly DicomWebAuthorization: string;
    readonly DimsePeer?: DimsePeerConfig;
  };
}

export const SCHEMA_PATH = join(__dirname, '..', '..', '..', 'config', 'aibridge.schema.json');

/** A node of config/aibridge.schema.json, as far as the gateway reads it. */
export interface SchemaNode {
  readonly type?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  /** Our keyword: the value is a credential, shown masked at any depth (admin/config-view.ts). */
  readonly 'x-secret'?: boolean;
}

interface SchemaDocument {
  readonly properties: Readonly<Record<string, SchemaNode>>;
}

/** The schema's own keyword: Ajv's strict mode refuses unknown keywords, so it is declared. */
export const SECRET_KEYWORD = 'x-secret';

let cachedSchema: SchemaDocument | undefined;
export function loadSchema(): SchemaDocument {
  cachedSchema ??= JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as SchemaDocument;
  return cachedSchema;
}

/**
 * Reads the AiBridge section out of Orthanc's whole configuration (as
 * OrthancPluginGetConfiguration returns it) and refuses anything the schema
 * does not allow, naming the key, rather than guessing.
 */
export function loadAiBridgeConfig(orthancConfigJson: string, cwd: string = process.cwd()): AiBridgeConfig {
  let orthanc: unknown;
  try {
    orthanc = JSON.parse(orthancConfigJson);
  } catch {
    throw new ConfigError('AIB_CONFIG_INVALID_JSON', 'Orthanc configuration is not valid JSON');
  }
  if (typeof orthanc !== 'object' || orthanc === null) {
    throw new ConfigError('AIB_CONFIG_INVALID_JSON', 'Orthanc configuration is not a JSON object');
  }
  const top = orthanc as Record<string, unknown>;
  const raw = top['AiBridge'] ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('AIB_CONFIG_BAD_VALUE', 'AiBridge must be a JSON object', { key: 'AiBridge' });
  }
  // Validate a copy: defaults are filled in without touching Orthanc's object.
  const section = structuredClone(raw) as Record<string, unknown>;
  const schema = loadSchema();
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
  ajv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });
  const validate = ajv.compile(schema);
  if (!validate(section)) throw toConfigError(validate.errors ?? [], Object.keys(schema.properties));

  // One worker per core: de-identification is CPU-bound, and Niceness keeps Orthanc first.
  section['DeidWorkers'] ??= Math.min(64, availableParallelism());
  section['Concurrency'] ??= Math.min(64, 2 * (section['DeidWorkers'] as number));
  if (section['DataDirectory'] === undefined) {
    const storage = typeof top['StorageDirectory'] === 'string' ? top['StorageDirectory'] : 'OrthancStorage';
    section['DataDirectory'] = join(dirname(resolve(cwd, storage)), 'ai-bridge');
  } else {
    section['DataDirectory'] = resolve(cwd, section['DataDirectory'] as string);
  }
  const central = section['Central'] as Record<string, unknown> | undefined;
  if (central !== undefined) {
    for (const key of ['SiteTokenFile', 'RegistryPublicKeyFile']) central[key] = resolve(cwd, central[key] as string);
  }
  const tls = (section['Reports'] as Record<string, unknown> | undefined)?.['Tls'] as Record<string, unknown> | undefined;
  if (tls !== undefined) for (const key of ['CertificateFile', 'KeyFile', 'CaFile']) if (typeof tls[key] === 'string') tls[key] = resolve(cwd, tls[key]);
  return section as unknown as AiBridgeConfig;
}

function toConfigError(errors: readonly ErrorObject[], knownKeys: readonly string[]): ConfigError {
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown !== undefined) {
    const key = (unknown.params as { additionalProperty: string }).additionalProperty;
    // Nested sections (AiBridge.Central...) are named by their path; the spelling hint covers top-level keys.
    const parent = unknown.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const near = parent === '' ? closest(key, knownKeys) : undefined;
    const hint = near === undefined ? '' : ` (did you mean AiBridge.${near}?)`;
    const full = parent === '' ? `AiBridge.${key}` : `AiBridge.${parent}.${key}`;
    return new ConfigError('AIB_CONFIG_UNKNOWN_KEY', `unknown configuration key ${full}${hint}`, { key: full });
  }
  const first = errors[0];
  const path = first === undefined ? '' : first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const key = path === '' ? 'AiBridge' : `AiBridge.${path}`;
  return new ConfigError('AIB_CONFIG_BAD_VALUE', `configuration key ${key} ${first?.message ?? 'is invalid'}`, { key });
}

/** The known key within edit distance 2, if any: catches "Concurency". */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
