import { strict as assert } from 'node:assert';

import { configView, MASK } from '../../plugin/gateway/admin/config-view';
import { loadAiBridgeConfig, loadSchema, SECRET_KEYWORD, type SchemaNode } from '../../plugin/gateway/config-loader';

interface SchemaPath { readonly path: readonly string[]; readonly node: SchemaNode }

/** Every property of the schema at any depth (array items under "[]"). */
function walk(node: SchemaNode, path: readonly string[] = []): SchemaPath[] {
  const here: SchemaPath[] = path.length === 0 ? [] : [{ path, node }];
  const inner = Object.entries(node.properties ?? {}).flatMap(([key, child]) => walk(child, [...path, key]));
  const items = node.items === undefined ? [] : walk(node.items, [...path, '[]']);
  return [...here, ...inner, ...items];
}

/** A key whose name says it holds a credential (a *File key holds a path to one, not the secret). */
const LOOKS_SECRET = /authorization|password|secret|token|apikey|credential/i;

/** Sets `value` at `path` in a minimal valid AiBridge section, creating the parents (Central needs its required keys). */
function sectionWith(path: readonly string[], value: string): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  let target = section;
  path.forEach((key, index) => {
    if (index === path.length - 1) {
      target[key] = value;
      return;
    }
    const next: Record<string, unknown> = key === 'Central'
      ? { Url: 'https://central.example', SiteId: 'site-a', SiteTokenFile: '/t', RegistryPublicKeyFile: '/k' } : {};
    target[key] = next;
    target = next;
  });
  return section;
}

describe('secrets in GET /ai-bridge/config: marked in the schema, masked at any depth', () => {
  const all = walk(loadSchema());

  it('marks every key that holds a credential, and only string keys', () => {
    const unmarked = all.filter((p) => LOOKS_SECRET.test(p.path.at(-1) ?? '') && !/File$/.test(p.path.at(-1) ?? '') && p.node[SECRET_KEYWORD] !== true);
    assert.deepEqual(unmarked.map((p) => p.path.join('.')), []);
    const marked = all.filter((p) => p.node[SECRET_KEYWORD] === true);
    assert.deepEqual(marked.map((p) => p.path.join('.')).sort(), ['Central.CategorySearch.DicomWebAuthorization', 'DicomWebAuthorization']);
    for (const p of marked) assert.equal(p.node.type, 'string', p.path.join('.'));
  });

  it('never shows the value of a marked key, wherever it sits; an empty one stays visibly unset', () => {
    for (const { path } of all.filter((p) => p.node[SECRET_KEYWORD] === true)) {
      const canary = `Bearer canary-${path.join('-')}`;
      const section = sectionWith(path, canary);
      const config = loadAiBridgeConfig(JSON.stringify({ AiBridge: section }));
      const view = configView(config, section);
      const text = JSON.stringify(view);
      assert.ok(!text.includes('canary'), `${path.join('.')} leaks: ${text.slice(0, 200)}`);
      assert.ok(text.includes(MASK), path.join('.'));
      const top = view.keys.find((k) => k.key === path[0]) ?? assert.fail(path[0]);
      assert.equal(top.secret, true, `${path[0] ?? ''} is flagged as holding a secret`);
    }
    const unset = configView(loadAiBridgeConfig(JSON.stringify({ AiBridge: {} })), {});
    assert.equal(unset.keys.find((k) => k.key === 'DicomWebAuthorization')?.value, '');
  });
});
