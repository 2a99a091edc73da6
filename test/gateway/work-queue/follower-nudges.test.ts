import { strict as assert } from 'node:assert';

import { followerLock } from '../../../plugin/gateway/work-queue/follower-lock';
import { eventually } from '../../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../../harness/postgres-server';

describe('change-log follower lock: nudges and work announcements between nodes (issue 17)', () => {
  let server: RunningPostgres | undefined;
  before(async () => { server = await startPostgres(); });
  after(async () => { await server?.stop(); });

  it('a node that does not follow nudges the follower; the follower\'s announcement of new work reaches every node', async () => {
    assert.ok(server);
    const database = { Backend: 'postgresql', ConnectionUri: server.uri, Schema: 'aibridge' } as const;
    const a = followerLock(database);
    const b = followerLock(database);
    try {
      let nudges = 0;
      const work = { a: 0, b: 0 };
      a.onNudge(() => { nudges++; });
      b.onNudge(() => { assert.fail('a node that does not follow heard a nudge'); });
      a.onWork(() => { work.a++; });
      b.onWork(() => { work.b++; });
      assert.equal(await a.tryAcquire(), true);
      assert.equal(await b.tryAcquire(), false);
      await b.nudge();
      await eventually(() => Promise.resolve(nudges > 0 ? true : undefined), 'the follower to hear the nudge');
      await a.announceWork();
      await eventually(() => Promise.resolve(work.a > 0 && work.b > 0 ? true : undefined), 'both nodes to hear of the new work');
      // The holder nudges nobody: it reads the change log itself.
      const before = nudges;
      await a.nudge();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(nudges, before);
    } finally {
      await a.release();
      await b.release();
    }
  });
});
