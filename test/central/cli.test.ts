import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startCentral } from '../../central/central-server';
import { centralPaths } from '../../plugin/core/central-api';
import { REPO, startHarness, type Harness } from './central-harness';

const BIN = join(REPO, 'bin', 'orthanc-ai-bridge.js');

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr });
    });
  });
}

describe('CLI: model keygen / sign / publish, central', function () {
  let h: Harness;
  let tokenFile: string;

  before(async () => {
    h = await startHarness();
    tokenFile = join(h.dir, 'admin.token');
  });
  after(async () => { await h.stop(); });

  it('keygen writes KEY (0600) and KEY.pub, and never overwrites them', async () => {
    const key = join(h.work, 'cli.key');
    const first = await cli(['model', 'keygen', '--out', key]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.match(readFileSync(`${key}.pub`, 'utf8'), /BEGIN PUBLIC KEY/);
    const again = await cli(['model', 'keygen', '--out', key]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /never overwritten/);
  });

  it('publish exits non-zero with the server reason when refused (unsigned, untrusted key), 0 when accepted', async () => {
    const unsigned = h.packageCopy('ct-head-brain', null);
    let run = await cli(['model', 'publish', '--central', h.central.url, '--token-file', tokenFile, unsigned]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /CENTRAL_PACKAGE_UNSIGNED/);

    const key = join(h.work, 'cli.key');
    run = await cli(['model', 'sign', '--key', key, unsigned]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(join(unsigned, 'signature.ed25519')));
    run = await cli(['model', 'publish', '--central', h.central.url, '--token-file', tokenFile, unsigned]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /CENTRAL_UNTRUSTED_KEY/);
    assert.match(run.stderr, /AIB_CLI_CENTRAL_REFUSED/);

    const authorKey = join(h.work, 'author.key');
    writeFileSync(authorKey, h.author.privateKeyPem, { mode: 0o600 });
    run = await cli(['model', 'sign', '--key', authorKey, unsigned]);
    assert.equal(run.code, 0, run.stderr);
    run = await cli(['model', 'publish', '--central', h.central.url, '--token-file', tokenFile, unsigned]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /published ct-head-brain 1\.0\.0/);

    const wrongToken = join(h.work, 'wrong.token');
    writeFileSync(wrongToken, 'nope\n');
    run = await cli(['model', 'publish', '--central', h.central.url, '--token-file', wrongToken, unsigned]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /CENTRAL_UNAUTHENTICATED/);
  });

  it('central site add and request add call the admin API', async () => {
    const site = await cli(['central', 'site', 'add', '--central', h.central.url, '--token-file', tokenFile, '--site', 'cli-site', '--name', 'CLI site']);
    assert.equal(site.code, 0, site.stderr);
    const issued = JSON.parse(site.stdout) as { siteId: string; token: string };
    assert.equal(issued.siteId, 'cli-site');
    const catalogue = await h.call('GET', centralPaths.catalogue, issued.token);
    assert.equal(catalogue.status, 200);
    const request = await cli(['central', 'request', 'add', '--central', h.central.url, '--token-file', tokenFile,
      '--modality', 'CT', '--body-part', 'CHEST', '--studies', '2', '--reason', 'chest model']);
    assert.equal(request.code, 0, request.stderr);
    const open = await (await h.call('GET', centralPaths.requests, issued.token)).json() as { category: { bodyPart: string } }[];
    assert.deepEqual(open.map((r) => r.category.bodyPart), ['CHEST']);
  });

  it('central train --wait exits 1 with the reason when a job cannot train', async () => {
    await h.addSite('other-site');
    const unknown = await cli(['central', 'train', '--central', h.central.url, '--token-file', tokenFile, '--model', 'ct-head-classifier',
      '--modality', 'CT', '--body-part', 'HEAD', '--train-site', 'cli-site', '--eval-site', 'no-such-site']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /CENTRAL_BAD_REQUEST.*no-such-site/);
    const run = await cli(['central', 'train', '--central', h.central.url, '--token-file', tokenFile, '--model', 'ct-head-classifier',
      '--modality', 'CT', '--body-part', 'HEAD', '--train-site', 'cli-site', '--eval-site', 'other-site', '--wait']);
    assert.equal(run.code, 1, run.stderr);
    const job = JSON.parse(run.stdout) as { state: string; error: string };
    assert.equal(job.state, 'failed');
    assert.match(job.error, /needs CT HEAD instances and other CT instances; has 0 of 0/);
  });

  it('serves HTTPS when given --cert and --key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aib-central-tls-'));
    try {
      const key = join(dir, 'tls.key');
      const cert = join(dir, 'tls.crt');
      await new Promise<void>((resolve, reject) => {
        execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
          '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], (error) => { if (error) reject(new Error(error.message)); else resolve(); });
      });
      const central = await startCentral({ dataDir: join(dir, 'c'), port: 0, host: '127.0.0.1', trustedKeys: [], tls: { certFile: cert, keyFile: key } });
      try {
        assert.match(central.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const body = await new Promise<string>((resolve, reject) => {
          httpsGet(`${central.url}${centralPaths.registryKey}`, { ca: readFileSync(cert) }, (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => { text += chunk.toString(); });
            response.once('end', () => { resolve(text); });
          }).once('error', reject);
        });
        assert.equal(body, readFileSync(join(dir, 'c', 'registry.pub'), 'utf8'));
      } finally {
        await central.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('central --data DIR starts a server on loopback and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aib-central-cli-'));
    try {
      const child = spawn(process.execPath, [BIN, 'central', '--data', join(dir, 'c'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /central server at (\S+)/.exec(out);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        child.once('exit', (code) => { reject(new Error(`exited ${String(code)}`)); });
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const key = await fetch(`${url}${centralPaths.registryKey}`);
      assert.equal(await key.text(), readFileSync(join(dir, 'c', 'registry.pub'), 'utf8'));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      const refused = await cli(['central', '--data', join(dir, 'd'), '--host', '0.0.0.0']);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /loopback only/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
