import { strict as assert } from 'node:assert';

import pg from 'pg';

import { followerLock } from '../../../plugin/gateway/work-queue/follower-lock';
import { eventually } from '../../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../../harness/postgres-server';

describe('change-log follower lock', () => {
  let server: RunningPostgres | undefined;
  before(async () => { server = await startPostgres(); });
  after(async () => { await server?.stop(); });

  it('PostgreSQL: one holder at a time; a dead holder\'s session frees it for the next node', async () => {
    assert.ok(server);
    const database = { Backend: 'postgresql', ConnectionUri: server.uri, Schema: 'aibridge' } as const;
    const a = followerLock(database);
    const b = followerLock(database);
    try {
      assert.equal(await a.tryAcquire(), true);
      assert.equal(await b.tryAcquire(), false, 'the second node waits');
      assert.equal(await a.tryAcquire(), true, 'the holder keeps it');
      // Node A dies: the server ends its session (as when its process is killed or its network cut).
      const admin = new pg.Client({ connectionString: server.uri });
      await admin.connect();
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted`, [0x41494246]);
      await admin.end();
      await eventually(() => Promise.resolve(a.held ? undefined : true), 'A to notice it lost its session');
      assert.equal(await b.tryAcquire(), true, 'B takes over');
      assert.equal(await a.tryAcquire(), false, 'A, back, waits behind B');
      await b.release();
      assert.equal(await a.tryAcquire(), true, 'released on a clean stop');
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('SQLite: the one gateway of state.sqlite always follows', async () => {
    const lock = followerLock({ Backend: 'sqlite' });
    assert.equal(await lock.tryAcquire(), true);
    assert.equal(lock.held, true);
  });
});
