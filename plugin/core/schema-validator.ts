import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import type { ValidateFunction } from 'ajv';

/**
 * JSON Schema validation (Ajv: allErrors, strict) without compiling at start.
 * Compiling the policy's, pixel rules' and OCR settings' schemas took a sealed
 * de-id worker ~100 ms of its ~250 ms start (loading Ajv and generating code),
 * paid again by every worker, every `deid` command and every annotator
 * (issue 14). The build compiles each committed schema once
 * (tools/gen-validators) into dist/validators/<key>.js, named by the schema's
 * content: a schema that changed since the build, or one a caller made up,
 * has no file and is compiled here as before, so a validator never checks
 * against another schema than the one given.
 */
export const COMPILED_VALIDATORS_DIR = join(__dirname, '..', '..', 'validators');

/** The file name a schema's compiled validator has: a digest of the schema as JSON. */
export function schemaKey(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32);
}

/** Ajv's options for every schema of the bridge's own files; the build compiles with the same. */
export const SCHEMA_OPTIONS = { allErrors: true, strict: true } as const;

const loaded = new Map<string, ValidateFunction>();
const load = createRequire(__filename);

export function schemaValidator(schema: object): ValidateFunction {
  const key = schemaKey(schema);
  const known = loaded.get(key);
  if (known !== undefined) return known;
  const compiled = join(COMPILED_VALIDATORS_DIR, `${key}.js`);
  let validate: ValidateFunction;
  if (existsSync(compiled)) {
    validate = load(compiled) as ValidateFunction;
  } else {
    // Loaded only here: a process that finds every validator compiled never loads Ajv.
    const { default: Ajv } = load('ajv') as typeof import('ajv');
    validate = new Ajv(SCHEMA_OPTIONS).compile(schema);
  }
  loaded.set(key, validate);
  return validate;
}
