import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { routingLua } from '../../plugin/gateway/api/routing-lua';
import { freePort, startOrthanc, type RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { eventually, sharedFile, tempDir, uploadFile } from '../harness/bridge-orthanc';

/**
 * The generated routing filter (GET /ai-bridge/categories/orthanc.lua) run by
 * a real Orthanc in front of the bridge: only instances of a served category
 * are forwarded (claim 8). The bridge's side is a plain Orthanc here: what is
 * tested is the script, fed the categories a site would export.
 */
describe('generated Orthanc Lua routing filter', function () {
  const temp = tempDir('routing-lua');
  let front: RunningOrthanc | undefined;
  let bridge: RunningOrthanc | undefined;

  before(async function () {
    const bridgePort = await freePort();
    bridge = await startOrthanc({ dataDir: join(temp.path, 'bridge'), dicomPort: bridgePort, aiBridge: false, dicomWeb: false, extraConfig: { DicomAet: 'BRIDGE' } });
    const script = routingLua({ categories: [{ modality: 'CT', bodyParts: ['CHEST', 'LUNG'], model: { id: 'ct-chest-lung-fields', version: '1.0.0' } }] }, 'aibridge', new Date().toISOString());
    writeFileSync(join(temp.path, 'route.lua'), script);
    front = await startOrthanc({
      dataDir: join(temp.path, 'front'), aiBridge: false, dicomWeb: false,
      extraConfig: { LuaScripts: [join(temp.path, 'route.lua')], DicomModalities: { aibridge: ['BRIDGE', '127.0.0.1', bridgePort] } },
    });
  });
  after(async function () {
    await front?.stop();
    await bridge?.stop();
    temp.remove();
  });

  it('forwards a CT chest instance and keeps a CT head instance back', async function () {
    const [f, b] = [front ?? assert.fail(), bridge ?? assert.fail()];
    assert.equal((await uploadFile(f, sharedFile('dcm_qa_ct/GE_head/01.dcm'))).status, 200);
    assert.equal((await uploadFile(f, sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-15.dcm'))).status, 200);
    const forwarded = await eventually(async () => {
      const ids = await b.json<string[]>('GET', '/instances');
      return ids.length > 0 ? ids : undefined;
    }, 'the chest instance at the bridge', 300);
    // The head instance was stored first: had the filter let it through, it would have arrived before the chest one.
    assert.equal(forwarded.length, 1);
    const tags = await b.json<Record<string, string>>('GET', `/instances/${forwarded[0] ?? ''}/tags?short`);
    assert.equal(tags['0018,0015'], 'CHEST');
    assert.equal((await f.json<string[]>('GET', '/instances')).length, 2);
  });
});
