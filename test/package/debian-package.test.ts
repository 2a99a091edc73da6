import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, symlinkSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';

import { freePort } from '../../plugin/cli/orthanc-launcher';
import { stripJsonComments } from '../../plugin/cli/orthanc-config';
import { repoRoot } from '../../plugin/cli/repo-root';
import type { HealthResponse, JobListResponse } from '../../plugin/core/admin-api';
import { tempDir } from '../harness/bridge-orthanc';

/**
 * The Debian package as an administrator meets it: `npm run package`, then
 * `apt-get install ./orthanc-ai-bridge_<version>_<arch>.deb`, Debian's own
 * Orthanc started as Orthanc's user on the configuration folder
 * /etc/orthanc/ (a copy with free ports and scratch storage, because this
 * machine's Orthanc settings are not ours to edit; the package's
 * ai-bridge.json is loaded from /etc/orthanc itself), an instance stored and
 * its job done, then `apt-get remove` and `purge`. The machine is left as it
 * was found: the package is purged and the data folder it created removed,
 * even when a step fails.
 */

const PACKAGE = 'orthanc-ai-bridge';
const DATA = '/var/lib/orthanc/ai-bridge';
const SETTINGS = '/etc/orthanc/ai-bridge.json';
const ORTHANC = '/usr/sbin/Orthanc';
// Not performance limits: each bounds how long a failed run waits before it says what it was waiting for.
const WAIT_MS = 120_000;
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Another apt-get or dpkg on this shared machine holds the lock for a while: wait for it rather than fail.
const APT_LOCK = ['-o', 'DPkg::Lock::Timeout=300'];

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} exited ${String(result.status)}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function installed(): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', PACKAGE], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('ok installed');
}

/** PIDs of Orthanc processes run on the system configuration (a service that installing must not start). */
function systemOrthancs(): string[] {
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args[0]?.endsWith('Orthanc') === true && args.some((arg) => arg.startsWith('/etc/orthanc'));
    } catch {
      return false;
    }
  });
}

/** Processes running code of the installed package (the gateway and its workers). */
function packageProcesses(): string[] {
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/usr/lib/orthanc-ai-bridge/');
    } catch {
      return false;
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, log: () => string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) assert.fail(`${what} within ${WAIT_MS / 1000} s; Orthanc's output:\n${log().split('\n').slice(-40).join('\n')}`);
    await sleep(500);
  }
}

function numericId(flag: '-u' | '-g'): number {
  return Number(run('id', [flag, 'orthanc']).trim());
}

describe('Debian package: npm run package, apt-get install, Debian\'s Orthanc on /etc/orthanc, remove, purge', function () {
  this.timeout(600_000);
  const work = tempDir('debian-package');
  let deb = '';
  let dataExisted = true;
  let orthanc: ChildProcess | undefined;
  let listed: string[] = [];

  before(function () {
    assert.equal(process.getuid?.(), 0, 'installing a package needs root');
    assert.ok(!installed(), `${PACKAGE} is already installed on this machine; this test installs and purges it, so it refuses to run`);
    dataExisted = existsSync(DATA);
    assert.ok(!dataExisted, `${DATA} exists (another installation's data); this test would mix its data with it, so it refuses to run`);
    for (const dependency of ['orthanc', 'orthanc-dicomweb', 'nodejs']) {
      // Installed already (scripts/bootstrap.sh), so apt-get installs nothing else, and no service of another package starts.
      assert.match(run('dpkg-query', ['-W', '-f=${Status}', dependency]), /ok installed/, `${dependency} is not installed`);
    }
    const out = run('bash', [join(repoRoot(), 'scripts', 'package-deb.sh'), work.path]).trim().split('\n');
    deb = out[out.length - 1] ?? '';
    assert.match(deb, /\/orthanc-ai-bridge_\d+\.\d+\.\d+_[a-z0-9]+\.deb$/);
  });

  after(async function () {
    if (orthanc !== undefined && orthanc.exitCode === null && orthanc.signalCode === null) {
      const exited = new Promise((resolve) => orthanc?.once('exit', resolve));
      orthanc.kill('SIGKILL');
      await exited;
    }
    if (installed()) spawnSync('apt-get', ['purge', '-y', ...APT_LOCK, PACKAGE], { env: APT_ENV, encoding: 'utf8' });
    if (!dataExisted) spawnSync('rm', ['-rf', '--', DATA]);
    work.remove();
  });

  it('declares its dependencies: orthanc, orthanc-dicomweb, Node.js 20 or later, and the DCMTK libraries the plugin links', function () {
    const depends = run('dpkg-deb', ['-f', deb, 'Depends']);
    assert.match(depends, /(^|, )orthanc \(>= 1\.10\)/);
    assert.match(depends, /(^|, )orthanc-dicomweb(,|$)/);
    assert.match(depends, /(^|, )nodejs \(>= 20\)/);
    const linked = run('ldd', [join(repoRoot(), 'build', 'Release', 'libOrthancAiBridge.so')]);
    for (const library of linked.matchAll(/^\s*(libdcm\S+|libofstd\S+|liboflog\S+) => (\S+)/gm)) {
      // The Debian package that holds each DCMTK library the plugin loads is a dependency.
      const owner = run('dpkg', ['-S', realpathSync(library[2] ?? '')]).split(':')[0] ?? '';
      assert.ok(depends.includes(owner), `${library[1] ?? ''} comes from ${owner}, which Depends does not name: ${depends}`);
    }
    assert.match(depends, /libdcmtk/);
    assert.equal(run('dpkg-deb', ['-f', deb, 'Recommends']).trim(), 'dcmtk', 'findscu/movescu for category requests over DIMSE');
    assert.deepEqual(run('dpkg-deb', ['-f', deb, 'Package', 'Architecture']).trim().split('\n'), [`Package: ${PACKAGE}`, `Architecture: ${run('dpkg', ['--print-architecture']).trim()}`]);
  });

  it('installs with apt-get without starting an Orthanc service; files where Debian puts an Orthanc plugin', function () {
    const before = systemOrthancs();
    run('apt-get', ['install', '-y', '--no-install-recommends', ...APT_LOCK, deb], APT_ENV);
    assert.ok(installed());
    assert.deepEqual(systemOrthancs(), before, 'installing started an Orthanc on /etc/orthanc');
    listed = run('dpkg', ['-L', PACKAGE]).trim().split('\n');
    const plugin = '/usr/share/orthanc/plugins/libOrthancAiBridge.so';
    assert.ok(lstatSync(plugin).isSymbolicLink(), `${plugin} is a link, like Debian's own plugins`);
    assert.equal(realpathSync(plugin), '/usr/lib/orthanc-ai-bridge/build/Release/libOrthancAiBridge.so', readlinkSync(plugin));
    for (const file of ['dist/plugin/gateway/main.js', 'dist/web-ui/index.html', 'build/Release/aibridge_addon.node', 'config/aibridge.schema.json',
      'node_modules/onnxruntime-node/package.json', 'node_modules/better-sqlite3/package.json', 'ohif/index.html', 'model-packages']) {
      assert.ok(existsSync(join('/usr/lib/orthanc-ai-bridge', file)), file);
    }
    // Only production modules: the lock's dev packages stay out.
    for (const devOnly of ['mocha', 'typescript', 'eslint', 'playwright-core', 'vite']) assert.ok(!existsSync(join('/usr/lib/orthanc-ai-bridge/node_modules', devOnly)), devOnly);
    const settings = statSync(SETTINGS);
    assert.equal(settings.mode & 0o777, 0o640);
    assert.equal(settings.gid, numericId('-g'));
    assert.match(readFileSync(SETTINGS, 'utf8'), /"DataDirectory" : "\/var\/lib\/orthanc\/ai-bridge"/);
    const data = statSync(DATA);
    assert.ok(data.isDirectory());
    assert.equal(data.uid, numericId('-u'), `${DATA} belongs to Orthanc's user`);
    assert.ok(!listed.includes(DATA), 'the data folder is not a file of the package (dpkg would remove it)');
    assert.match(run('/usr/bin/orthanc-ai-bridge', ['--help']), /orthanc-ai-bridge run/);
  });

  it('Debian\'s Orthanc, as Orthanc\'s user on /etc/orthanc/, loads the plugin from the installed paths and finishes the job of a stored instance', async function () {
    const uid = numericId('-u');
    const gid = numericId('-g');
    const config = join(work.path, 'etc-orthanc');
    const storage = join(work.path, 'db');
    for (const dir of [config, storage]) {
      run('install', ['-d', '-o', 'orthanc', '-g', 'orthanc', '-m', '0750', dir]);
    }
    chmodSync(work.path, 0o755);
    const httpPort = await freePort();
    const dicomPort = await freePort();
    for (const name of readdirSync('/etc/orthanc').filter((file) => file.endsWith('.json'))) {
      const target = join(config, name);
      if (name === 'ai-bridge.json') {
        // The package's own file, as installed, is what Orthanc reads.
        symlinkSync(SETTINGS, target);
      } else if (name === 'orthanc.json') {
        // Debian's settings with this test's ports and storage; the plugin folder stays /usr/share/orthanc/plugins/.
        const settings = JSON.parse(stripJsonComments(readFileSync('/etc/orthanc/orthanc.json', 'utf8'))) as Record<string, unknown>;
        assert.deepEqual(settings['Plugins'], ['/usr/share/orthanc/plugins/']);
        writeFileSync(target, JSON.stringify({ ...settings, HttpPort: httpPort, DicomPort: dicomPort, StorageDirectory: storage, IndexDirectory: storage }, null, 2));
      } else {
        copyFileSync(join('/etc/orthanc', name), target);
      }
      if (name !== 'ai-bridge.json') { chownSync(target, 0, gid); chmodSync(target, 0o640); }
    }
    const logPath = join(work.path, 'orthanc.log');
    const logFd = openSync(logPath, 'a');
    try {
      orthanc = spawn(ORTHANC, [`${config}/`], {
        uid, gid, cwd: storage, stdio: ['ignore', logFd, logFd],
        // The environment of Debian's orthanc.service: node is found in PATH, as the plugin's NodeCommand "node" expects.
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/var/lib/orthanc' },
      });
    } finally {
      closeSync(logFd);
    }
    const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
    const base = `http://127.0.0.1:${httpPort}`;
    const health = await poll('no 200 from /ai-bridge/health', async () => {
      const answer = await fetch(`${base}/ai-bridge/health`);
      return answer.status === 200 ? await answer.json() as HealthResponse : undefined;
    }, log);
    assert.equal(health.dataDirectory, DATA);
    assert.match(log(), /\/usr\/lib\/orthanc-ai-bridge\/dist\/plugin\/gateway\/main\.js/, 'the plugin started the gateway from the installed package');

    const stored = await fetch(`${base}/instances`, { method: 'POST', body: readFileSync(join(repoRoot(), 'fixtures', 'samples', 'mr-epi-64x64-00001.dcm')) });
    assert.equal(stored.status, 200, await stored.text());
    const job = await poll('the stored instance\'s job did not end done', async () => {
      const jobs = await (await fetch(`${base}/ai-bridge/jobs`)).json() as JobListResponse;
      const done = jobs.jobs.find((candidate) => candidate.state === 'done');
      const failed = jobs.jobs.find((candidate) => candidate.state === 'quarantined');
      if (failed !== undefined) assert.fail(`job quarantined: ${JSON.stringify(failed.error)}`);
      return done;
    }, log);
    assert.ok(job.deidPath !== null, JSON.stringify(job));
    const copy = join(DATA, 'deid', job.deidPath);
    assert.ok(existsSync(copy), copy);
    assert.equal(statSync(copy).uid, uid, 'the gateway wrote its data as Orthanc\'s user');

    const exited = new Promise((resolve) => orthanc?.once('exit', resolve));
    orthanc.kill('SIGTERM');
    await exited;
    assert.deepEqual(packageProcesses(), [], 'a process of the package outlived Orthanc');
  });

  it('apt-get remove keeps the settings and the data; purge removes every file of the package and keeps the data', function () {
    const kept = readdirSync(DATA).sort();
    assert.ok(kept.includes('deid'), kept.join(', '));
    run('apt-get', ['remove', '-y', ...APT_LOCK, PACKAGE], APT_ENV);
    assert.ok(existsSync(SETTINGS), 'remove keeps the conffile (Debian policy); purge removes it');
    run('apt-get', ['purge', '-y', ...APT_LOCK, PACKAGE], APT_ENV);
    assert.ok(!installed());
    const files = listed.filter((path) => { try { return !lstatSync(path).isDirectory(); } catch { return true; } });
    assert.ok(files.length > 1000, `dpkg -L listed ${files.length} files`);
    for (const path of [...listed.filter((p) => p.startsWith('/usr/lib/orthanc-ai-bridge')), SETTINGS, '/usr/share/orthanc/plugins/libOrthancAiBridge.so', '/usr/bin/orthanc-ai-bridge']) {
      assert.ok(!existsSync(path) && !isLink(path), `${path} is left after purge`);
    }
    assert.deepEqual(readdirSync(DATA).sort(), kept, 'the data folder is kept as it was');
    assert.ok(statSync(join(DATA, 'deid')).isDirectory());
  });
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
