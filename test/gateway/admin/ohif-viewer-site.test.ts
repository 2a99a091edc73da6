import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { AiBridgeError } from '../../../plugin/core/ai-bridge-error';
import { ohifAppConfig, ohifDistDirectory, OhifViewerSite, OHIF_VERSION } from '../../../plugin/gateway/admin/ohif-viewer-site';
import { repoRoot } from '../../../plugin/cli/repo-root';
import { startBridgeOrthanc, tempDir } from '../../harness/bridge-orthanc';

function refusal(run: () => unknown): AiBridgeError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof AiBridgeError, String(error));
    return error;
  }
  return assert.fail('no error');
}

describe('OHIF viewer under /ai-bridge/viewer/ (AiBridge.OhifViewer)', function () {
  this.timeout(120_000);
  const dist = tempDir('ohif-dist');
  // The shapes of the published build that the site rewrites, in a miniature dist.
  before(() => {
    writeFileSync(join(dist.path, 'index.html'), '<html><head><meta name="x" content="/assets/tile.png"><script>window.PUBLIC_URL="/"</script>'
      + '<script src="/app-config.js"></script><script defer src="/app.bundle.0123456789abcdef.js"></script><link href="/app.bundle.css" rel="stylesheet">'
      + '<a href="//cdn.example/x">x</a></head></html>');
    writeFileSync(join(dist.path, 'app.bundle.0123456789abcdef.js'), 'a();__webpack_require__.p = "/";b();');
    writeFileSync(join(dist.path, 'app.bundle.css'), '@font-face{src:url(/a34f9d1faa5f3315.woff2)}');
    writeFileSync(join(dist.path, '0123456789abcdef.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    writeFileSync(join(dist.path, 'app-config.js'), 'window.config = { demo: "https://elsewhere.example" };');
    mkdirSync(join(dist.path, 'assets'));
  });
  after(() => { dist.remove(); });
  const site = (): OhifViewerSite => new OhifViewerSite({ dist: dist.path, dicomWeb: { Root: '/pacs-web/', WadoRoot: '/wado' } });

  it('moves every root-relative reference of index.html below the prefix, for each client-side route', () => {
    for (const route of ['', 'viewer', 'segmentation/']) {
      const reply = site().serve(route, {});
      assert.equal(reply.status, 200);
      assert.match(reply.contentType, /^text\/html/);
      const html = reply.body.toString('utf8');
      assert.match(html, /window\.PUBLIC_URL="\/ai-bridge\/viewer\/"/);
      assert.match(html, /src="\/ai-bridge\/viewer\/app-config\.js"/);
      assert.match(html, /src="\/ai-bridge\/viewer\/app\.bundle\.0123456789abcdef\.js"/);
      assert.match(html, /href="\/ai-bridge\/viewer\/app\.bundle\.css"/);
      assert.match(html, /content="\/ai-bridge\/viewer\/assets\/tile\.png"/);
      assert.match(html, /href="\/\/cdn\.example\/x"/, 'a protocol-relative URL is not a root path');
    }
  });

  it('sets webpack\'s public path and the stylesheet\'s font below the prefix; serves WebAssembly as application/wasm, hashed names immutable', () => {
    const bundle = site().serve('app.bundle.0123456789abcdef.js', {});
    assert.equal(bundle.body.toString('utf8'), 'a();__webpack_require__.p = "/ai-bridge/viewer/";b();');
    assert.match(bundle.headers?.['cache-control'] ?? '', /immutable/);
    assert.equal(site().serve('app.bundle.css', {}).body.toString('utf8'), '@font-face{src:url(/ai-bridge/viewer/a34f9d1faa5f3315.woff2)}');
    const wasm = site().serve('0123456789abcdef.wasm', {});
    assert.equal(wasm.contentType, 'application/wasm');
    assert.deepEqual([...wasm.body], [0, 0x61, 0x73, 0x6d]);
    const etag = wasm.headers?.['etag'] ?? assert.fail('no etag');
    assert.equal(site().serve('0123456789abcdef.wasm', { 'if-none-match': etag }).status, 304);
    // The dist is only read.
    assert.equal(readFileSync(join(dist.path, 'app.bundle.0123456789abcdef.js'), 'utf8'), 'a();__webpack_require__.p = "/";b();');
  });

  it('answers its own app-config.js: this Orthanc\'s DicomWeb.Root and WadoRoot, never the shipped demo server', () => {
    const config = site().serve('app-config.js', {}).body.toString('utf8');
    assert.doesNotMatch(config, /elsewhere\.example/);
    assert.match(config, /"qidoRoot": "\/pacs-web"/);
    assert.match(config, /"wadoRoot": "\/pacs-web"/);
    assert.match(config, /"wadoUriRoot": "\/wado"/);
    assert.match(ohifAppConfig({}), /"qidoRoot": "\/dicom-web"/);
  });

  it('refuses paths outside the dist, names a missing file, and says when the viewer is not installed', () => {
    assert.equal(refusal(() => site().serve('../../etc/passwd.txt', {})).code, 'AIB_API_NOT_FOUND');
    assert.equal(refusal(() => site().serve('%2e%2e/x.js', {})).code, 'AIB_API_NOT_FOUND');
    assert.equal(refusal(() => site().serve('nothing.js', {})).code, 'AIB_API_NOT_FOUND');
    const empty = tempDir('ohif-empty');
    try {
      const error = refusal(() => new OhifViewerSite({ dist: empty.path, dicomWeb: {} }).serve('', {}));
      assert.equal(error.code, 'AIB_VIEWER_NOT_INSTALLED');
      assert.match(error.message, /fetch-ohif\.sh/);
    } finally {
      empty.remove();
    }
  });

  it('finds the viewer of a clone in .cache/ohif/<version>/dist and of the package in <root>/ohif', () => {
    assert.equal(ohifDistDirectory(repoRoot()), join(repoRoot(), '.cache', 'ohif', OHIF_VERSION, 'dist'));
    const root = tempDir('package-root');
    try {
      mkdirSync(join(root.path, 'ohif'));
      writeFileSync(join(root.path, 'ohif', 'index.html'), '<html></html>');
      assert.equal(ohifDistDirectory(root.path), join(root.path, 'ohif'));
    } finally {
      root.remove();
    }
  });

  it('is off by default on a real Orthanc: /ai-bridge/viewer/ answers 404 AIB_VIEWER_DISABLED naming the key', async () => {
    const orthanc = await startBridgeOrthanc();
    try {
      for (const path of ['/ai-bridge/viewer/', '/ai-bridge/viewer/app-config.js']) {
        const answer = await orthanc.request('GET', path);
        assert.equal(answer.status, 404);
        const body = JSON.parse(answer.body.toString('utf8')) as { error: { code: string; details: { key: string } } };
        assert.equal(body.error.code, 'AIB_VIEWER_DISABLED');
        assert.equal(body.error.details.key, 'AiBridge.OhifViewer');
      }
    } finally {
      await orthanc.cleanup();
    }
  });
});
