import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';

import { loadAiBridgeConfig, loadSchema } from '../../plugin/gateway/config-loader';
import { refusal } from './config-refusal';

const orthanc = (aiBridge: unknown, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ StorageDirectory: '/var/lib/orthanc/db-v6', ...extra, AiBridge: aiBridge });

describe('AiBridge configuration (config/aibridge.schema.json)', () => {
  it('applies every schema default to an empty section', () => {
    const config = loadAiBridgeConfig(JSON.stringify({}), '/srv');
    assert.equal(config.Enable, true);
    assert.equal(config.DeidWorkers, Math.min(64, availableParallelism()), 'one de-identification worker per core');
    assert.equal(config.Concurrency, 2 * config.DeidWorkers, 'two jobs in flight per worker');
    assert.equal(config.MaxAttempts, 5);
    assert.equal(config.ProcessExistingInstances, false);
    assert.equal(config.DataDirectory, '/srv/ai-bridge', 'beside the default StorageDirectory');
    const withDefaults = Object.entries(loadSchema().properties).filter(([, p]) => 'default' in p).map(([k]) => k);
    for (const key of withDefaults) assert.ok(key in config, `default for ${key}`);
  });

  it('puts the data directory beside Orthanc storage unless given', () => {
    assert.equal(loadAiBridgeConfig(orthanc({})).DataDirectory, '/var/lib/orthanc/ai-bridge');
    assert.equal(loadAiBridgeConfig(orthanc({ DataDirectory: 'rel/dir' }), '/x').DataDirectory, '/x/rel/dir');
  });

  it('refuses an unknown key, naming it and the likely intended key', () => {
    const error = refusal(() => loadAiBridgeConfig(orthanc({ Concurency: 4 })));
    assert.equal(error.code, 'AIB_CONFIG_UNKNOWN_KEY');
    assert.equal(error.details['key'], 'AiBridge.Concurency');
    assert.match(error.message, /did you mean AiBridge\.Concurrency\?/);
  });

  it('refuses a mistyped or out-of-range value, naming the key', () => {
    const typed = refusal(() => loadAiBridgeConfig(orthanc({ MaxAttempts: 'five' })));
    assert.equal(typed.code, 'AIB_CONFIG_BAD_VALUE');
    assert.equal(typed.details['key'], 'AiBridge.MaxAttempts');
    const range = refusal(() => loadAiBridgeConfig(orthanc({ Concurrency: 0 })));
    assert.equal(range.details['key'], 'AiBridge.Concurrency');
    const section = refusal(() => loadAiBridgeConfig(orthanc([1])));
    assert.equal(section.details['key'], 'AiBridge');
  });

  it('does not alter the configuration object it was given', () => {
    const text = orthanc({ Concurrency: 3 });
    loadAiBridgeConfig(text);
    assert.equal(text, orthanc({ Concurrency: 3 }));
  });

  it('reads AiBridge.Database: SQLite by default, PostgreSQL with a URI and a schema', () => {
    assert.equal(loadAiBridgeConfig(orthanc({})).Database.Backend, 'sqlite');
    const uri = 'postgresql://orthanc@127.0.0.1:5432/orthanc';
    assert.deepEqual(loadAiBridgeConfig(orthanc({ Database: { Backend: 'postgresql', ConnectionUri: uri } })).Database,
      { Backend: 'postgresql', ConnectionUri: uri, Schema: 'aibridge' });
    const noUri = refusal(() => loadAiBridgeConfig(orthanc({ Database: { Backend: 'postgresql' } })));
    assert.equal(noUri.code, 'AIB_CONFIG_BAD_VALUE');
    assert.equal(noUri.details['key'], 'AiBridge.Database');
    const badSchema = refusal(() => loadAiBridgeConfig(orthanc({ Database: { Backend: 'postgresql', ConnectionUri: uri, Schema: 'Drop"Me' } })));
    assert.equal(badSchema.details['key'], 'AiBridge.Database.Schema');
    assert.equal(refusal(() => loadAiBridgeConfig(orthanc({ Database: { Backend: 'mysql' } }))).details['key'], 'AiBridge.Database.Backend');
  });

  it('refuses a configuration that is not JSON', () => {
    assert.equal(refusal(() => loadAiBridgeConfig('{')).code, 'AIB_CONFIG_INVALID_JSON');
  });
});
