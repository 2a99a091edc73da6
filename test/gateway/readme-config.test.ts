import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadSchema } from '../../plugin/gateway/config-loader';

describe('README documents the configuration', () => {
  it('has a row for every key of config/aibridge.schema.json, and none that does not exist', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration keys'), readme.indexOf('## REST API'));
    const documented = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
    const keys = Object.keys(loadSchema().properties);
    assert.deepEqual([...documented].sort(), [...keys].sort());
  });
});
