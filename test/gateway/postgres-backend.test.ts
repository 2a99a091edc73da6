import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import pg from 'pg';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { allJobs, eventually, health, sharedFile, startBridgeOrthanc, uploadFile, waitForHealth } from '../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../harness/postgres-server';

const FILES = ['tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-01.dcm', 'tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-05.dcm', 'pydicom/test_files/MR_small.dcm'];

describe('the gateway on AiBridge.Database "postgresql" (real Orthanc + plugin + PostgreSQL 15)', function () {
  this.timeout(180_000);
  let server: RunningPostgres;
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  let db: pg.Client;

  before(async () => {
    server = await startPostgres();
    orthanc = await startBridgeOrthanc({
      aiBridge: { ChangesPollSeconds: 2, Annotate: false, Database: { Backend: 'postgresql', ConnectionUri: server.uri, Schema: 'bridge_node' } },
    });
    db = new pg.Client({ connectionString: server.uri });
    await db.connect();
  });
  after(async () => {
    await db.end().catch(() => undefined);
    await orthanc.cleanup();
    await server.stop();
  });

  it('turns each stored instance into one job in its schema, de-identifies it, and keeps no state.sqlite', async () => {
    const ids: string[] = [];
    for (const file of FILES) {
      const sent = await uploadFile(orthanc, sharedFile(file));
      assert.ok(sent.id !== undefined, `Orthanc accepted ${file}`);
      ids.push(sent.id);
    }
    const jobs = await eventually(async () => {
      const all = await allJobs(orthanc);
      return ids.every((id) => all.some((j) => j.instanceId === id && (j.state === 'done' || j.state === 'quarantined'))) ? all : undefined;
    }, 'the jobs of the stored instances to settle');
    for (const id of ids) {
      const job = jobs.find((j) => j.instanceId === id) ?? assert.fail(`no job for ${id}`);
      assert.equal(job.state, 'done', JSON.stringify(job.error));
      assert.match(job.outcome ?? '', /^de-identified/);
      assert.ok(job.deidPath !== null);
    }
    // The rows are PostgreSQL's: one 'instance' item per instance, the cursor at Orthanc's last change.
    const rows = (await db.query<{ key: string; state: string }>(`SELECT key, state FROM bridge_node.work_items WHERE kind = 'instance'`)).rows;
    assert.deepEqual(ids.map((id) => rows.filter((r) => r.key === id).map((r) => r.state)), ids.map(() => ['done']), 'one job per instance, done');
    const cursor = (await db.query<{ seq: string }>(`SELECT seq FROM bridge_node.change_cursor WHERE name = 'orthanc'`)).rows[0]?.seq;
    const status = await health(orthanc);
    assert.equal(Number(cursor), status.changeCursor);
    assert.ok(status.changeCursor !== null && status.changeCursor > 0);
    assert.equal(status.jobs.done, jobs.filter((j) => j.state === 'done').length);
    assert.equal(existsSync(join(status.dataDirectory, 'state.sqlite')), false, 'no job state in SQLite');
    assert.ok(existsSync(join(status.dataDirectory, 'phi', 'vault.sqlite')), 'the vault stays in SQLite');
  });

  it('resumes from the cursor in PostgreSQL after its gateway is killed: an instance stored meanwhile gets its one job', async () => {
    const before = await health(orthanc);
    process.kill(before.gatewayPid, 'SIGKILL');
    const sent = await uploadFile(orthanc, sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-15.dcm'));
    assert.ok(sent.id !== undefined);
    await waitForHealth(orthanc, before.gatewayPid);
    await eventually(async () => ((await allJobs(orthanc)).find((j) => j.instanceId === sent.id)?.state === 'done' ? true : undefined), 'the new instance\'s job');
    const counts = (await db.query<{ key: string; n: string }>(`SELECT key, COUNT(*) AS n FROM bridge_node.work_items WHERE kind = 'instance' GROUP BY key`)).rows;
    assert.ok(counts.every((r) => r.n === '1'), 'still one job per instance after the restart');
    assert.equal(counts.length, FILES.length + 1);
  });
});
