import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { SdkArgValue, SdkCallReply, SdkCallTransport } from '../../plugin/sdk/call-transport';
import { ChangeType, DicomToJsonFlags, DicomToJsonFormat, MetricsType, ResourceType } from '../../plugin/sdk/generated/enums';
import { GENERATED_SDK_CALLS, SdkClient } from '../../plugin/sdk/generated/functions';
import { OrthancSdkError } from '../../plugin/sdk/orthanc-sdk-error';
import { parseModel } from '../../tools/gen-sdk/code-model';

// dist/test/sdk → repository root
const ROOT = resolve(__dirname, '..', '..', '..');
const HEADER = '/usr/include/orthanc/OrthancCPlugin.h';
const MODEL_FILE = join(ROOT, 'plugin/sdk/model/OrthancPluginCodeModel.json');

const modelText = readFileSync(MODEL_FILE, 'utf8');
const model = parseModel(modelText, MODEL_FILE);
const modelSha = createHash('sha256').update(modelText).digest('hex');

interface CoverageRow {
  readonly name: string;
  readonly status: string;
  readonly method?: string;
  readonly where?: string;
  readonly reason?: string;
}

function readCoverage(): CoverageRow[] {
  const raw = JSON.parse(readFileSync(join(ROOT, 'plugin/sdk/generated/coverage.json'), 'utf8')) as { functions: CoverageRow[] };
  return raw.functions;
}

function headerEnumValue(header: string, member: string): number {
  const m = new RegExp(`\\b${member}\\s*=\\s*(-?\\d+)`).exec(header);
  assert.ok(m?.[1] !== undefined, `${member} not found in ${HEADER}`);
  return Number.parseInt(m[1], 10);
}

describe('tools/gen-sdk: committed model and generated output', () => {
  const headerPresent = existsSync(HEADER);

  it('records the header version and hash', function () {
    assert.equal(model.header.path, HEADER);
    assert.match(model.header.sdkVersion, /^\d+\.\d+\.\d+$/);
    assert.ok(headerPresent, `${HEADER} is missing: bootstrap installs orthanc-dev`);
    const header = readFileSync(HEADER);
    assert.equal(model.header.sha256, createHash('sha256').update(header).digest('hex'));
    const text = header.toString('utf8');
    const n = (which: string): string => new RegExp(`ORTHANC_PLUGINS_MINIMAL_${which}_NUMBER\\s+(\\d+)`).exec(text)?.[1] ?? '?';
    assert.equal(model.header.sdkVersion, `${n('MAJOR')}.${n('MINOR')}.${n('REVISION')}`);
  });

  it('renders ChangeType with the values of the header', function () {
    assert.ok(headerPresent, `${HEADER} is missing: bootstrap installs orthanc-dev`);
    const text = readFileSync(HEADER, 'utf8');
    const expected: readonly (readonly [string, ChangeType])[] = [
      ['NewInstance', ChangeType.NewInstance],
      ['StableSeries', ChangeType.StableSeries],
      ['StableStudy', ChangeType.StableStudy],
      ['OrthancStarted', ChangeType.OrthancStarted],
      ['OrthancStopped', ChangeType.OrthancStopped],
    ];
    for (const [member, value] of expected) {
      assert.equal(value, headerEnumValue(text, `OrthancPluginChangeType_${member}`), member);
    }
    assert.equal(ResourceType.Instance, headerEnumValue(text, 'OrthancPluginResourceType_Instance'));
  });

  it('documents every public enum and leaves out only the header plumbing', () => {
    for (const e of model.enums) assert.notEqual(e.doc.brief, '', e.name);
    assert.deepEqual([...model.internalEnums].sort(), ['_OrthancPluginProperty', '_OrthancPluginService']);
  });

  it('classifies every ORTHANC_PLUGIN_INLINE function of the header exactly once', function () {
    assert.ok(headerPresent, `${HEADER} is missing: bootstrap installs orthanc-dev`);
    const text = readFileSync(HEADER, 'utf8');
    const names = [...text.matchAll(/ORTHANC_PLUGIN_INLINE[^(;{}]*?\b(OrthancPlugin\w+)\s*\(/g)].map((m) => m[1] ?? '');
    assert.ok(names.length > 100, `only ${names.length} inline functions found`);
    const rows = readCoverage();
    for (const name of names) {
      const hits = rows.filter((r) => r.name === name);
      assert.equal(hits.length, 1, `${name} appears ${hits.length} times in coverage.json`);
      const row = hits[0];
      assert.ok(row !== undefined && ['generated', 'custom', 'unsupported'].includes(row.status), name);
      if (row.status !== 'generated') assert.ok((row.reason ?? '').length > 0, `${name} has no reason`);
      if (row.status === 'custom') assert.ok((row.where ?? '').startsWith('native/'), `${name} has no "where"`);
    }
    const md = readFileSync(join(ROOT, 'plugin/sdk/generated/coverage.md'), 'utf8');
    for (const name of names) assert.equal(md.split(`| \`${name}\` |`).length - 1, 1, `${name} in coverage.md`);
  });

  it('keeps the hand-written and excluded functions out of the client', () => {
    const rows = readCoverage();
    const status = (name: string): string | undefined => rows.find((r) => r.name === name)?.status;
    for (const name of [
      'OrthancPluginRegisterOnChangeCallback',
      'OrthancPluginRegisterRestCallbackNoLock',
      'OrthancPluginRegisterRestCallback',
      'OrthancPluginAnswerBuffer',
      'OrthancPluginSendHttpStatus',
      'OrthancPluginSetHttpHeader',
      'OrthancPluginFreeString',
      'OrthancPluginFreeMemoryBuffer',
    ]) {
      assert.equal(status(name), 'custom', name);
    }
    assert.equal(status('OrthancPluginGetConfiguration'), 'generated');
    assert.equal(status('OrthancPluginGetInstanceJson'), 'unsupported');
    assert.match(rows.find((r) => r.name === 'OrthancPluginGetImageWidth')?.reason ?? '', /opaque handle OrthancPluginImage\*/);
    assert.ok(!GENERATED_SDK_CALLS.includes('FreeString'));
  });

  it('opens every generated file with the banner naming the model hash', () => {
    const line = `GENERATED by tools/gen-sdk from plugin/sdk/model/OrthancPluginCodeModel.json (sha256 ${modelSha}); do not edit.`;
    for (const rel of ['plugin/sdk/generated/enums.ts', 'plugin/sdk/generated/functions.ts', 'native/orthanc/generated/dispatch.cpp']) {
      assert.equal(readFileSync(join(ROOT, rel), 'utf8').split('\n')[0], `// ${line}`, rel);
    }
    assert.equal(readFileSync(join(ROOT, 'plugin/sdk/generated/coverage.md'), 'utf8').split('\n')[0], `<!-- ${line} -->`);
  });

  it('dispatches exactly the generated calls in C++', () => {
    const cpp = readFileSync(join(ROOT, 'native/orthanc/generated/dispatch.cpp'), 'utf8');
    const table = [...cpp.matchAll(/\{"(\w+)", &Call_\1\}/g)].map((m) => m[1]);
    assert.deepEqual(table, [...GENERATED_SDK_CALLS]);
  });

  it('exposes the methods the gateway relies on', () => {
    for (const method of [
      'restApiGet',
      'restApiPost',
      'restApiPut',
      'restApiDelete',
      'getDicomForInstance',
      'logInfo',
      'logWarning',
      'logError',
      'setMetricsValue',
      'getConfiguration',
    ]) {
      assert.equal(typeof Object.getOwnPropertyDescriptor(SdkClient.prototype, method)?.value, 'function', method);
    }
  });
});

interface RecordedCall {
  readonly fn: string;
  readonly args: Readonly<Record<string, SdkArgValue>>;
  readonly body: Buffer | undefined;
}

/** Records each call and answers with the next canned reply. */
class FakeTransport implements SdkCallTransport {
  readonly calls: RecordedCall[] = [];
  readonly replies: SdkCallReply[] = [];

  call(fn: string, args: Readonly<Record<string, SdkArgValue>>, body?: Buffer): Promise<SdkCallReply> {
    this.calls.push({ fn, args, body });
    return Promise.resolve(this.replies.shift() ?? { value: null, body: undefined });
  }
}

describe('SdkClient (generated) over a recording transport', () => {
  it('sends the wire name, the named args and the body', async () => {
    const t = new FakeTransport();
    const client = new SdkClient(t);
    t.replies.push({ value: null, body: Buffer.from('{"ok":1}') });
    const answer = await client.restApiPost('/tools/find', Buffer.from('{"Level":"Study"}'));
    assert.equal(answer.toString(), '{"ok":1}');
    assert.deepEqual(t.calls[0], { fn: 'RestApiPost', args: { uri: '/tools/find' }, body: Buffer.from('{"Level":"Study"}') });

    await client.restApiDelete('/instances/x');
    assert.deepEqual(t.calls[1], { fn: 'RestApiDelete', args: { uri: '/instances/x' }, body: undefined });
  });

  it('passes numbers and enums by value', async () => {
    const t = new FakeTransport();
    const client = new SdkClient(t);
    await client.setMetricsValue('aibridge_jobs', 3.5, MetricsType.Default);
    assert.deepEqual(t.calls[0]?.args, { name: 'aibridge_jobs', value: 3.5, type: MetricsType.Default });

    t.replies.push({ value: '{}', body: undefined });
    const flags = DicomToJsonFlags.IncludePrivateTags | DicomToJsonFlags.IncludeUnknownTags;
    await client.dicomInstanceToJson('abc', DicomToJsonFormat.Short, flags, 256);
    assert.deepEqual(t.calls[1]?.args, { instanceId: 'abc', format: DicomToJsonFormat.Short, flags, maxStringLength: 256 });
  });

  it('sends null for a NULL-able string', async () => {
    const t = new FakeTransport();
    t.replies.push({ value: null, body: Buffer.alloc(0) });
    await new SdkClient(t).httpGet('http://peer/', null, null);
    assert.deepEqual(t.calls[0]?.args, { url: 'http://peer/', username: null, password: null });
  });

  it('returns strings and numbers as such', async () => {
    const t = new FakeTransport();
    const client = new SdkClient(t);
    t.replies.push({ value: '{"AiBridge":{}}', body: undefined }, { value: 2, body: undefined });
    assert.equal(await client.getConfiguration(), '{"AiBridge":{}}');
    assert.equal(await client.getFontsCount(), 2);
    assert.deepEqual(
      t.calls.map((c) => c.fn),
      ['GetConfiguration', 'GetFontsCount'],
    );
    assert.deepEqual(t.calls[0]?.args, {});
  });

  it('rejects a reply of the wrong shape with OrthancSdkError', async () => {
    const t = new FakeTransport();
    const client = new SdkClient(t);
    t.replies.push({ value: 7, body: undefined }, { value: null, body: undefined });
    await assert.rejects(client.getConfiguration(), (e: unknown) => e instanceof OrthancSdkError && e.orthancCode === -1);
    await assert.rejects(client.restApiGet('/system'), (e: unknown) => e instanceof OrthancSdkError && /no body/.test(e.message));
  });
});
