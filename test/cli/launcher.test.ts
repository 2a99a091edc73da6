import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseServeOptions, preferredPort } from '../../plugin/cli/cli-options.js';
import { claimPorts, freePort, startOrthanc, type RunningOrthanc } from '../../plugin/cli/orthanc-launcher.js';
import { repoRoot } from '../../plugin/cli/repo-root.js';
import { storescu } from '../../plugin/cli/storescu.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('cli/orthanc-launcher (real Orthanc, plugin not loaded)', function () {
  let dataDir: string;
  let orthanc: RunningOrthanc | undefined;

  before(async function () {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-launcher-'));
    orthanc = await startOrthanc({ dataDir, aiBridge: false });
  });

  after(async function () {
    await orthanc?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function running(): RunningOrthanc {
    assert.ok(orthanc, 'Orthanc did not start');
    return orthanc;
  }

  it('answers GET /system on 127.0.0.1 with the ports it was given', async function () {
    const o = running();
    const system = await o.json<{ Version: string; HttpPort: number; DicomPort: number; DicomAet: string }>('GET', '/system');
    assert.equal(system.HttpPort, o.httpPort);
    assert.equal(system.DicomPort, o.dicomPort);
    assert.equal(system.DicomAet, o.aet);
    assert.equal(o.baseUrl, `http://127.0.0.1:${o.httpPort}`);
    assert.match(system.Version, /^\d+\.\d+\.\d+/);
  });

  it('writes its log to logPath and finds lines in it', async function () {
    const o = running();
    assert.ok(o.logText().length > 0);
    assert.match(await o.waitForLog(/Orthanc has started/, 5_000), /Orthanc has started/);
    await assert.rejects(o.waitForLog(/no such line ever/, 300), { code: 'AIB_CLI_LOG_TIMEOUT' });
  });

  it('writes a loopback-only configuration without our plugin', function () {
    const config = JSON.parse(fs.readFileSync(running().configPath, 'utf8')) as Record<string, unknown>;
    assert.equal(config['RemoteAccessAllowed'], false);
    assert.equal(config['AuthenticationEnabled'], false);
    assert.equal(config['AiBridge'], undefined);
    assert.ok(Array.isArray(config['Plugins']));
    assert.ok(!(config['Plugins'] as unknown[]).some((p) => String(p).includes('OrthancAiBridge')));
    assert.deepEqual(config['DicomWeb'], { Enable: true, Root: '/dicom-web/' });
  });

  it('json() throws with the status on a non-2xx answer', async function () {
    await assert.rejects(running().json('GET', '/instances/does-not-exist'), (e: unknown) => {
      assert.equal((e as { code?: unknown }).code, 'AIB_CLI_ORTHANC_HTTP');
      assert.match((e as Error).message, /404/);
      return true;
    });
  });

  it('stores two sample instances sent with storescu', async function () {
    const o = running();
    const dir = path.join(repoRoot(), 'fixtures', 'samples');
    const files = ['mr-epi-64x64-00001.dcm', 'ct-128x128.dcm'].map((f) => path.join(dir, f));
    const result = await storescu({ port: o.dicomPort, aet: o.aet, files });
    assert.deepEqual({ sent: result.sent, failed: result.failed }, { sent: 2, failed: 0 }, result.stderr);
    const instances = await o.json<string[]>('GET', '/instances');
    assert.equal(instances.length, 2);
  });

  it('counts a file storescu cannot send as failed', async function () {
    const result = await storescu({ port: running().dicomPort, files: [path.join(repoRoot(), 'fixtures', 'samples', 'README.md')] });
    assert.deepEqual({ sent: result.sent, failed: result.failed }, { sent: 0, failed: 1 });
  });

  it('restarts with the same ports and data', async function () {
    const o = running();
    const before = o.pid();
    await o.restart();
    assert.notEqual(o.pid(), before);
    const instances = await o.json<string[]>('GET', '/instances');
    assert.equal(instances.length, 2);
  });

  it('stop() leaves no Orthanc process and can be called twice', async function () {
    const o = running();
    const pid = o.pid();
    assert.ok(pid !== undefined && isAlive(pid));
    await o.stop();
    await o.stop();
    assert.equal(isAlive(pid), false);
    const res = await o.request('GET', '/system').catch((e: unknown) => e);
    assert.ok(res instanceof Error, 'Orthanc still answers after stop()');
  });
});

describe('cli/orthanc-launcher failures', function () {
  it('fails with the log tail when Orthanc cannot start', async function () {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-launcher-bad-'));
    try {
      // The HTTP port is taken (by us), and it was given explicitly, so no retry on another port.
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, resolve));
      const address = blocker.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      try {
        await assert.rejects(
          startOrthanc({ dataDir, aiBridge: false, httpPort: port, dicomPort: await freePort() }),
          (e: unknown) => {
            assert.equal((e as { code?: unknown }).code, 'AIB_CLI_ORTHANC_START_FAILED');
            assert.match((e as Error).message, /exited[^]*last lines/);
            return true;
          });
      } finally {
        blocker.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start the plugin when the library is missing', async function () {
    await assert.rejects(
      startOrthanc({ dataDir: os.tmpdir(), pluginPath: '/nonexistent/libOrthancAiBridge.so' }),
      { code: 'AIB_CLI_MISSING_FILE' });
  });
});

describe('cli ports: Orthanc gets two distinct ports, and a chosen port is never handed out twice', function () {
  it('freePort never repeats a port in one process, nor returns one claimed for a process we start', async function () {
    // CI once saw the kernel give the same just-released port for Orthanc's HTTP and DICOM servers.
    const claimed = await freePort();
    claimPorts(claimed + 1);
    const seen = new Set<number>([claimed]);
    for (let i = 0; i < 2000; i++) {
      const port = await freePort();
      assert.ok(!seen.has(port), `port ${String(port)} was handed out twice`);
      assert.notEqual(port, claimed + 1, 'a claimed port was handed out');
      seen.add(port);
    }
  });

  it('refuses the same port for HTTP and DICOM before starting anything, naming it', async function () {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-launcher-same-'));
    try {
      const port = await freePort();
      await assert.rejects(startOrthanc({ dataDir, aiBridge: false, httpPort: port, dicomPort: port }), (e: unknown) => {
        assert.equal((e as { code?: unknown }).code, 'AIB_CLI_BAD_OPTION_VALUE');
        assert.match((e as Error).message, new RegExp(`both ${String(port)}`));
        return true;
      });
      assert.ok(!fs.existsSync(path.join(dataDir, 'orthanc.json')), 'nothing was written for an Orthanc that cannot start');
      assert.throws(() => parseServeOptions('run', ['--http-port', '5000', '--dicom-port', '5000']), (e: unknown) => {
        assert.equal((e as { code?: unknown }).code, 'AIB_CLI_BAD_OPTION_VALUE');
        assert.match((e as Error).message, /--http-port and --dicom-port are both 5000/);
        return true;
      });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('takes the well-known port only when the other port is not already on it', async function () {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const address = blocker.address();
      const busy = typeof address === 'object' && address !== null ? address.port : 0;
      assert.notEqual(await preferredPort(busy), busy, 'a port in use is not offered');
      const free = await freePort();
      assert.equal(await preferredPort(free), free);
      assert.notEqual(await preferredPort(free, free), free, 'the port the other server has is not offered again');
    } finally {
      blocker.close();
    }
  });
});
