import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ErrorObject, ValidateFunction } from 'ajv';

import { schemaValidator } from '../schema-validator';

import { ModelError } from './model-error';
import type { ModelManifest } from './model-manifest';

export const MANIFEST_SCHEMA_PATH = join(__dirname, '..', '..', '..', '..', 'config', 'model-manifest.schema.json');

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  if (validator) return validator;
  validator = schemaValidator(JSON.parse(readFileSync(MANIFEST_SCHEMA_PATH, 'utf8')) as object);
  return validator;
}

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? '(top level)' : error.instancePath;
  if (error.keyword === 'additionalProperties') return `${at}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  return `${at}: ${error.message ?? error.keyword}`;
}

/**
 * Checks what the schema cannot: references between parts of the manifest
 * (region → channel, region → earlier region, report slice → region).
 */
function crossCheck(m: ModelManifest): string[] {
  const problems: string[] = [];
  const channels = new Set(m.output.channels.map((c) => c.key));
  const regions = new Set<string>();
  m.regions.forEach((r, i) => {
    if (!channels.has(r.channel)) problems.push(`/regions/${String(i)}/channel: no output channel "${r.channel}"`);
    if (r.within !== undefined && !regions.has(r.within)) problems.push(`/regions/${String(i)}/within: no earlier region "${r.within}"`);
    if (regions.has(r.key)) problems.push(`/regions/${String(i)}/key: "${r.key}" is used twice`);
    if (r.report !== false && r.report.lateralise === undefined && (r.report.trackingIdentifier === undefined || r.report.label === undefined))
      problems.push(`/regions/${String(i)}/report: needs trackingIdentifier and label (or lateralise)`);
    regions.add(r.key);
  });
  if (!regions.has(m.postProcessing.reportSlice)) problems.push(`/postProcessing/reportSlice: no region "${m.postProcessing.reportSlice}"`);
  return problems;
}

/** Parses and validates a manifest; the error names the file and every offending key. */
export function parseManifest(text: string, file: string): ModelManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    throw new ModelError('AIB_MODEL_MANIFEST_INVALID', `${file}: not JSON (${String(error)})`, { file });
  }
  const check = validate();
  if (!check(value)) {
    const problems = (check.errors ?? []).map(describe);
    throw new ModelError('AIB_MODEL_MANIFEST_INVALID', `${file}: ${problems.join('; ')}`, { file, key: check.errors?.[0]?.instancePath ?? '' });
  }
  const manifest = value as ModelManifest;
  const problems = crossCheck(manifest);
  if (problems.length > 0) throw new ModelError('AIB_MODEL_MANIFEST_INVALID', `${file}: ${problems.join('; ')}`, { file, key: problems[0]?.split(':')[0] ?? '' });
  return manifest;
}

export function loadManifest(file: string): ModelManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ModelError('AIB_MODEL_FILE_MISSING', `${file} cannot be read`, { file });
  }
  return parseManifest(text, file);
}
