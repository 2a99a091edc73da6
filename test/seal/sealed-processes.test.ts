/**
 * Proof tests of the two sealed zones, on a real Orthanc with the real
 * plugin: the de-identification worker, the annotator and the uplink are
 * started by the gateway through the product's own entry points, and each
 * loads hostile-module.ts after its seal (plugin/seal/after-seal-hook.ts).
 * Every way out must fail with the kernel's own error; the gateway's
 * children must show `Seccomp: 2` and `NoNewPrivs: 1` in /proc.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

import type { HealthResponse } from '../../plugin/core/admin-api';
import { keygen } from '../../plugin/core/model-package';
import { AFTER_SEAL_ARGS_ENV, AFTER_SEAL_MODULE_ENV, runAfterSealHook } from '../../plugin/seal/after-seal-hook';
import { freePort } from '../../plugin/cli/orthanc-launcher';
import { eventually, startBridgeOrthanc, tempDir } from '../harness/bridge-orthanc';
import type { HostileReport, HostileTargets } from './hostile-module';

type Running = Awaited<ReturnType<typeof startBridgeOrthanc>>;

/** A server that records who connected (and answers HTTP 503 to the uplink's polls). */
async function listen(where: { port: number } | { path: string }): Promise<{ connections: number; close: () => Promise<void> }> {
  const state = { connections: 0 };
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    state.connections++;
    open.add(socket);
    socket.on('close', () => { open.delete(socket); });
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => {
    if ('port' in where) server.listen(where.port, '127.0.0.1', resolve);
    else server.listen(where.path, resolve);
  });
  return Object.assign(state, {
    close: () => new Promise<void>((resolve) => {
      for (const socket of open) socket.destroy();
      server.close(() => { resolve(); });
    }),
  });
}

function children(pid: number): number[] {
  return readdirSync(`/proc/${String(pid)}/task`).flatMap((tid) =>
    readFileSync(`/proc/${String(pid)}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '').map(Number));
}

describe('two sealed zones: hostile code inside each sealed process of a live plugin', function () {
  const temp = tempDir('hostile');
  let orthanc: Running;
  let health: HealthResponse;
  const reports = new Map<string, HostileReport>();
  let central: Awaited<ReturnType<typeof listen>>;
  let unixServer: Awaited<ReturnType<typeof listen>>;
  let abstractServer: Awaited<ReturnType<typeof listen>>;
  const dataDirectory = join(temp.path, 'ai-bridge');

  before(async function () {
    const orthancPort = await freePort();
    const centralPort = await freePort();
    central = await listen({ port: centralPort });
    const unixSocket = join(temp.path, 'listening.sock');
    unixServer = await listen({ path: unixSocket });
    const abstractName = `aib-hostile-${String(process.pid)}`;
    abstractServer = await listen({ path: `\0${abstractName}` });
    writeFileSync(join(temp.path, 'site.token'), 'site-token-0123456789\n', { mode: 0o600 });
    // A site that already has its key (otherwise the first worker creates it, maybe after another process's probe: ENOENT).
    mkdirSync(join(dataDirectory, 'phi'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dataDirectory, 'phi', 'site.key'), randomBytes(32), { mode: 0o600 });
    writeFileSync(join(temp.path, 'registry.pub'), keygen().publicKeyPem);
    const targets: HostileTargets = {
      dataDirectory, orthancConfig: join(temp.path, 'orthanc.json'), orthancPort, unixSocket, abstractSocket: `@${abstractName}`, centralPort,
    };
    orthanc = await startBridgeOrthanc({
      dataDir: temp.path, httpPort: orthancPort,
      env: { [AFTER_SEAL_MODULE_ENV]: join(__dirname, 'hostile-module.js'), [AFTER_SEAL_ARGS_ENV]: JSON.stringify(targets) },
      aiBridge: {
        ChangesPollSeconds: 2, Annotate: true, AnnotatorProcesses: 1, DeidWorkers: 1,
        Central: { Url: `http://127.0.0.1:${String(centralPort)}`, SiteId: 'site-hostile', SiteTokenFile: join(temp.path, 'site.token'), RegistryPublicKeyFile: join(temp.path, 'registry.pub'), PollSeconds: 3600 },
      },
    });
    health = await eventually(async () => {
      const h = await orthanc.json<HealthResponse>('GET', '/ai-bridge/health');
      return h.deid.readyWorkers === 1 && h.annotator?.ready === 1 && h.uplink?.seal !== null ? h : undefined;
    }, 'the worker, the annotator and the uplink to be ready');
    for (const [role, folder] of [['deid-worker', 'deid'], ['annotator', 'outbox'], ['uplink', 'central']] as const) {
      const file = join(dataDirectory, folder, `hostile-${role}.json`);
      reports.set(role, await eventually(() => Promise.resolve(existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as HostileReport : undefined), file));
    }
  });

  after(async function () {
    await orthanc.cleanup();
    await central.close();
    await unixServer.close();
    await abstractServer.close();
  });

  function report(role: string): HostileReport {
    const found = reports.get(role);
    assert.ok(found, `no report from the ${role}`);
    return found;
  }

  for (const role of ['deid-worker', 'annotator', 'uplink']) {
    describe(`the ${role}`, function () {
      it('control: its own folder stays readable and writable (the hostile code did run, sealed)', function () {
        const { control } = report(role);
        assert.equal(control.readOwnFolder, 'ok');
        assert.equal(control.writeOwnFolder, 'ok');
      });

      it('cannot read the vault, the site key, state.sqlite, Orthanc\'s configuration, /etc/passwd or the gateway\'s environment (EACCES)', function () {
        const { attempts } = report(role);
        for (const name of ['readVault', 'readVaultAsync', 'readSiteKey', 'readState', 'readOrthancConfig', 'openOrthancConfigRaw', 'readPasswd', 'readGatewayEnviron']) {
          assert.equal(attempts[name], 'EACCES', `${role}: ${name} → ${String(attempts[name])}`);
        }
      });

      it('cannot open Orthanc\'s REST port, any UDP, netlink or Unix socket, path or abstract (EACCES)', function () {
        const { attempts } = report(role);
        for (const name of ['connectOrthancRest', 'connectUnixPath', 'connectAbstract', 'nodeConnectUnixPath', 'socketUdp', 'socketNetlink']) {
          assert.equal(attempts[name], 'EACCES', `${role}: ${name} → ${String(attempts[name])}`);
        }
      });

      it('cannot receive or send a descriptor (recvmsg/sendmsg refused: EPERM)', function () {
        const { attempts } = report(role);
        assert.equal(attempts['receiveDescriptor'], 'EPERM');
        assert.equal(attempts['sendDescriptor'], 'EPERM');
      });

      it('cannot ptrace the gateway or a sibling, read the gateway\'s memory, or signal it (EPERM)', function () {
        const { attempts } = report(role);
        assert.equal(attempts['ptraceGateway'], 'EPERM');
        assert.equal(attempts['ptraceSiblings'], 'EPERM');
        assert.equal(attempts['readGatewayMemory'], 'EPERM');
        // Landlock's signal scope (ABI 6); the seal report says when the kernel lacks it.
        const seal = role === 'deid-worker' ? health.deid.seals[0] : role === 'annotator' ? health.annotator?.seals[0] : health.uplink?.seal;
        if (seal?.scoped.includes('signal') === true) assert.equal(attempts['signalGateway'], 'EPERM');
        else console.log(`      note: no Landlock signal scope on this kernel; kill(gateway, 0) → ${String(attempts['signalGateway'])}`);
      });

      it('cannot write outside its folders (EACCES)', function () {
        const { attempts } = report(role);
        for (const name of ['writeDataRoot', 'writePhi', 'writeTmp', 'writeDeid', 'writeModels', 'writeOutbox']) {
          if (name in attempts) assert.equal(attempts[name], 'EACCES', `${role}: ${name} → ${String(attempts[name])}`);
        }
        assert.equal(existsSync(join(dataDirectory, 'hostile.txt')), false);
        assert.equal(existsSync(join(dataDirectory, 'phi', 'hostile.txt')), false);
      });
    });
  }

  it('the uplink reaches the central server\'s port and nothing of deid/ or models/', function () {
    const { control, attempts } = report('uplink');
    assert.equal(control.centralConnect, 'ok');
    assert.ok(central.connections >= 1);
    assert.equal(attempts['listDeid'], 'EACCES');
    assert.equal(attempts['readModels'], 'EACCES');
  });

  it('no connection reached the Unix and abstract sockets', function () {
    assert.equal(unixServer.connections, 0);
    assert.equal(abstractServer.connections, 0);
  });

  it('/ai-bridge/health shows each process\'s seal', function () {
    const seals = [health.deid.seals[0], health.annotator?.seals[0], health.uplink?.seal];
    for (const seal of seals) {
      assert.ok(seal);
      assert.equal(seal.noNewPrivs, true);
      assert.equal(seal.seccomp, true);
      assert.equal(seal.fsRestricted, true);
      assert.ok(seal.landlockAbi >= 1);
    }
    assert.equal(health.deid.seals[0]?.network, 'none');
    assert.equal(health.annotator?.seals[0]?.network, 'none');
    const uplinkSeal = health.uplink?.seal;
    assert.ok(uplinkSeal);
    assert.equal(uplinkSeal.network, 'tcp-ports');
    assert.deepEqual(health.deid.refused, []);
    console.log(`      kernel: Landlock ABI ${String(uplinkSeal.landlockAbi)}, missing: ${JSON.stringify(uplinkSeal.missing)}`);
  });

  it('every child of the gateway shows Seccomp: 2 and NoNewPrivs: 1 in /proc', function () {
    const pids = children(health.gatewayPid);
    assert.equal(pids.length, 3, `the gateway's children: ${pids.join(', ')}`);
    for (const pid of pids) {
      const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
      assert.match(status, /^Seccomp:\s*2$/m, `pid ${String(pid)}`);
      assert.match(status, /^NoNewPrivs:\s*1$/m, `pid ${String(pid)}`);
      // A clean environment: nothing of Orthanc's but the test hook's two variables.
      const environ = readFileSync(`/proc/${String(pid)}/environ`, 'utf8').split('\0').filter((e) => e !== '').map((e) => e.split('=')[0]);
      assert.deepEqual(environ.sort(), ['AIBRIDGE_TEST_AFTER_SEAL', 'AIBRIDGE_TEST_AFTER_SEAL_ARGS', 'AIBRIDGE_WORKER_INDEX', 'UV_USE_IO_URING']);
    }
  });

  it('the annotator runs in the SCHED_IDLE class, below the de-id workers and the uplink at niceness 19 (issue 14)', function () {
    // /proc/<pid>/stat after the command's closing parenthesis: field 19 is the niceness, field 41 the policy (5 = SCHED_IDLE).
    const scheduling = (pid: number): { nice: number; policy: number } => {
      const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return { nice: Number(fields[19 - 3]), policy: Number(fields[41 - 3]) };
    };
    const byRole = children(health.gatewayPid).map((pid) => ({ pid, command: readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8') }));
    const annotator = byRole.find((p) => p.command.includes('annotator-main.js')) ?? assert.fail('no annotator among the gateway\'s children');
    assert.deepEqual(scheduling(annotator.pid), { nice: 19, policy: 5 });
    const others = byRole.filter((p) => p !== annotator);
    assert.ok(others.length >= 2, 'a de-id worker and the uplink');
    for (const other of others) assert.deepEqual(scheduling(other.pid), { nice: 19, policy: 0 }, other.command);
  });
});

describe('a process that cannot seal takes no work, says why, and is not restarted', function () {
  const temp = tempDir('unsealable');
  let orthanc: Running;
  after(async function () {
    await orthanc.cleanup();
  });

  it('an uplink whose token file is missing (its seal cannot name it) is refused for good and shown in /ai-bridge/health', async function () {
    writeFileSync(join(temp.path, 'registry.pub'), keygen().publicKeyPem);
    orthanc = await startBridgeOrthanc({
      dataDir: temp.path,
      aiBridge: {
        ChangesPollSeconds: 2, Annotate: true, AnnotatorProcesses: 1, DeidWorkers: 1,
        Central: { Url: 'http://127.0.0.1:9', SiteId: 'site-unsealable', SiteTokenFile: join(temp.path, 'missing.token'), RegistryPublicKeyFile: join(temp.path, 'registry.pub'), PollSeconds: 3600 },
      },
    });
    const health = await eventually(async () => {
      const h = await orthanc.json<HealthResponse>('GET', '/ai-bridge/health');
      // The others are unaffected: they become ready.
      return h.uplink !== null && h.uplink.refused.length > 0 && h.annotator?.ready === 1 && h.deid.readyWorkers === 1 ? h : undefined;
    }, 'the uplink to be refused and the others ready');
    const { uplink } = health;
    assert.ok(uplink);
    assert.equal(uplink.seal, null);
    assert.match(uplink.refused[0]?.reason ?? '', /AIB_SEAL_FAILED: seal: cannot open readable path .*missing\.token: No such file or directory/);
    await orthanc.waitForLog(/uplink 0 refused, not restarted/);
    // Longer than the pool's first restart delay (0.5 s): a restart would show in the log and among the gateway's children.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.doesNotMatch(orthanc.logText(), /uplink 0 exited/);
    assert.equal(children(health.gatewayPid).length, 2);
  });
});

describe('the after-seal test hook', function () {
  it('loads nothing from outside dist/test/ (AIB_SEAL_TEST_HOOK_REFUSED)', async function () {
    process.env.AIBRIDGE_TEST_AFTER_SEAL = '/tmp/anything.js';
    try {
      await assert.rejects(runAfterSealHook('annotator', '/tmp'), (e: unknown) => (e as { code?: string }).code === 'AIB_SEAL_TEST_HOOK_REFUSED');
    } finally {
      delete process.env.AIBRIDGE_TEST_AFTER_SEAL;
    }
  });

  it('has no configuration key: the AiBridge schema refuses one', function () {
    const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'aibridge.schema.json'), 'utf8')) as { additionalProperties?: unknown; properties: Record<string, unknown> };
    assert.equal(schema.additionalProperties, false);
    assert.ok(!Object.keys(schema.properties).some((key) => /test|hook|seal/i.test(key)));
  });
});
