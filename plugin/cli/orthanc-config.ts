import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from './errors.js';

export type JsonObject = Record<string, unknown>;

/** Debian's packages put these here (orthanc, orthanc-dicomweb 1.7). */
export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancConfigInput {
  readonly dataDir: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  /** undefined: our plugin is not loaded. */
  readonly aiBridge: Readonly<JsonObject> | undefined;
  readonly pluginPath: string;
  readonly dicomWeb: boolean;
  readonly extraConfig: Readonly<JsonObject> | undefined;
  readonly userConfig: Readonly<JsonObject> | undefined;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Objects merge key by key; anything else (arrays included) is replaced, except
 * the top-level `Plugins` list, which is united so a user's --config cannot
 * silently drop our plugin or DICOMweb.
 */
export function mergeConfig(base: Readonly<JsonObject>, over: Readonly<JsonObject>, topLevel = true): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (topLevel && key === 'Plugins' && Array.isArray(current) && Array.isArray(value)) {
      out[key] = [...new Set<unknown>([...(current as unknown[]), ...(value as unknown[])])];
    } else if (isJsonObject(current) && isJsonObject(value)) {
      out[key] = mergeConfig(current, value, false);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * Orthanc reads its configuration with JsonCpp, which accepts // and block
 * comments (Debian's /etc/orthanc/*.json are full of them), so a user's file
 * may have them too. Strings are copied verbatim so "http://" survives.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const next = text.charAt(i + 1);
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function readUserConfig(file: string): JsonObject {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CliError('AIB_CLI_MISSING_FILE', `cannot read the configuration file ${file}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripJsonComments(text));
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new CliError('AIB_CLI_BAD_CONFIG_FILE', `${file} is not valid JSON: ${reason}`, { file });
  }
  if (!isJsonObject(parsed)) {
    throw new CliError('AIB_CLI_BAD_CONFIG_FILE', `${file} must hold a JSON object`, { file });
  }
  return parsed;
}

/** The generated orthanc.json; the user's --config file is merged last, so it wins. */
export function buildOrthancConfig(input: OrthancConfigInput): JsonObject {
  const plugins: string[] = [];
  if (input.dicomWeb) plugins.push(DICOMWEB_PLUGIN);
  if (input.aiBridge !== undefined) plugins.push(input.pluginPath);
  let config: JsonObject = {
    Name: 'orthanc-ai-bridge',
    StorageDirectory: path.join(input.dataDir, 'orthanc', 'storage'),
    IndexDirectory: path.join(input.dataDir, 'orthanc', 'index'),
    HttpPort: input.httpPort,
    DicomPort: input.dicomPort,
    // Orthanc 1.10 has no HTTP bind address; refusing non-loopback clients is how it stays local.
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomAet: 'ORTHANC',
    DicomCheckCalledAet: false,
    UnknownSopClassAccepted: true,
    StableAge: 2,
    Plugins: plugins,
  };
  if (input.dicomWeb) config['DicomWeb'] = { Enable: true, Root: '/dicom-web/' };
  if (input.aiBridge !== undefined) {
    config['AiBridge'] = { DataDirectory: path.join(input.dataDir, 'ai-bridge'), ...input.aiBridge };
  }
  if (input.extraConfig !== undefined) config = mergeConfig(config, input.extraConfig);
  if (input.userConfig !== undefined) config = mergeConfig(config, input.userConfig);
  return config;
}
