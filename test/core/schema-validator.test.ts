import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import Ajv from 'ajv';

import { COMPILED_VALIDATORS_DIR, schemaKey, schemaValidator } from '../../plugin/core/schema-validator';

const ROOT = join(__dirname, '..', '..', '..');
const PROFILES_SCHEMA = join(ROOT, 'config', 'deid', 'profiles.schema.json');
const PROFILES = join(ROOT, 'config', 'deid', 'profiles.json');

describe('schema validators compiled by the build (plugin/core/schema-validator.ts)', () => {
  const schema = JSON.parse(readFileSync(PROFILES_SCHEMA, 'utf8')) as Record<string, unknown>;

  it('has a compiled validator for each committed schema a process checks at start', () => {
    for (const file of ['deid/profiles.schema.json', 'deid/pixel-regions.schema.json', 'deid/burned-in-text.schema.json', 'model-manifest.schema.json']) {
      const committed = JSON.parse(readFileSync(join(ROOT, 'config', file), 'utf8')) as object;
      assert.ok(existsSync(join(COMPILED_VALIDATORS_DIR, `${schemaKey(committed)}.js`)), `${file} compiled by npm run build`);
    }
  });

  it('judges documents as Ajv does, with the same errors', () => {
    const ajv = new Ajv({ allErrors: true, strict: true }).compile(schema);
    const compiled = schemaValidator(schema);
    const good = JSON.parse(readFileSync(PROFILES, 'utf8')) as Record<string, unknown>;
    const bad = { ...good, unknownKey: 1, profiles: 'not an object' };
    assert.equal(compiled(good), true);
    assert.equal(ajv(good), true);
    assert.equal(compiled(bad), false);
    assert.equal(ajv(bad), false);
    assert.deepEqual(compiled.errors, ajv.errors);
  });

  it('compiles a schema that differs from the committed one now, instead of using another schema\'s validator', () => {
    // Another $id too: Ajv keeps one schema per id. Stricter than the committed one: profiles.json no longer passes.
    const changed = { ...schema, $id: 'https://orthanc-ai-bridge/test/changed.schema.json', maxProperties: 1 };
    const good = JSON.parse(readFileSync(PROFILES, 'utf8')) as object;
    assert.equal(existsSync(join(COMPILED_VALIDATORS_DIR, `${schemaKey(changed)}.js`)), false);
    assert.equal(schemaValidator(changed)(good), false, 'the added requirement is checked');
    assert.equal(schemaValidator(schema)(good), true);
  });

  it('a process that loads the de-identification policy does not load Ajv', () => {
    const script = `require(${JSON.stringify(join(ROOT, 'dist', 'plugin', 'deid', 'deid-engine.js'))});
      const { loadPolicy } = require(${JSON.stringify(join(ROOT, 'dist', 'plugin', 'deid', 'policy', 'index.js'))});
      loadPolicy('basic');
      process.stdout.write(String(Object.keys(require.cache).some((k) => k.endsWith('/ajv/dist/ajv.js'))));`;
    assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }), 'false');
  });
});
