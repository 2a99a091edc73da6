import { strict as assert } from 'node:assert';

import { startOrthanc, type RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { eventually, tempDir } from '../harness/bridge-orthanc';

interface ErrorBody { error: { code: string; message: string } }

describe('configuration errors: the plugin refuses to start, Orthanc keeps running', function () {
  this.timeout(120_000);
  const running: RunningOrthanc[] = [];
  const dirs: { remove: () => void }[] = [];
  after(async () => {
    for (const o of running) await o.stop();
    for (const d of dirs) d.remove();
  });

  async function start(aiBridge: Record<string, unknown>): Promise<RunningOrthanc> {
    const dir = tempDir('config');
    dirs.push(dir);
    const orthanc = await startOrthanc({ dataDir: dir.path, aiBridge });
    running.push(orthanc);
    return orthanc;
  }

  it('names an unknown key in Orthanc\'s log and in /ai-bridge/health, and does not restart the gateway', async () => {
    const orthanc = await start({ Concurency: 4 });
    const line = await orthanc.waitForLog(/AiBridge\.Concurency/, 30_000);
    assert.match(line, /did you mean AiBridge\.Concurrency/);
    // The log line comes first; the gateway's exit follows a moment later.
    const body = await eventually(async () => {
      const response = await orthanc.request('GET', '/ai-bridge/health');
      assert.equal(response.status, 503);
      const parsed = JSON.parse(response.body.toString('utf8')) as ErrorBody;
      return parsed.error.code === 'AIB_GATEWAY_UNAVAILABLE' ? undefined : parsed;
    }, 'health to report the configuration error');
    assert.equal(body.error.code, 'AIB_CONFIG_UNKNOWN_KEY');
    assert.match(body.error.message, /AiBridge\.Concurency/);
    assert.ok((await orthanc.json<{ Version: string }>('GET', '/system')).Version);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const starts = orthanc.logText().split('\n').filter((l) => /gateway started: pid/.test(l));
    assert.equal(starts.length, 1, 'one attempt, no restart loop');
  });

  it('names a mistyped value', async () => {
    const orthanc = await start({ MaxAttempts: 'many' });
    await orthanc.waitForLog(/AiBridge\.MaxAttempts/, 30_000);
    await eventually(async () => {
      const body = JSON.parse((await orthanc.request('GET', '/ai-bridge/health')).body.toString('utf8')) as ErrorBody;
      return body.error.code === 'AIB_CONFIG_BAD_VALUE' ? body : undefined;
    }, 'health to report AIB_CONFIG_BAD_VALUE');
  });

  it('names a mistyped key that the native plugin reads', async () => {
    const orthanc = await start({ Enable: 'yes' });
    await orthanc.waitForLog(/AiBridge\.Enable/, 30_000);
    assert.notEqual((await orthanc.request('GET', '/ai-bridge/health')).status, 200);
    assert.ok((await orthanc.json<{ Version: string }>('GET', '/system')).Version);
  });

  it('with Enable: false starts no gateway and answers nothing under /ai-bridge/', async () => {
    const orthanc = await start({ Enable: false });
    await orthanc.waitForLog(/disabled/i, 30_000);
    assert.notEqual((await orthanc.request('GET', '/ai-bridge/health')).status, 200);
  });
});
