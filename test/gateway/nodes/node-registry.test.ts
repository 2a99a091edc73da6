import { strict as assert } from 'node:assert';
import { join } from 'node:path';

import { drainGate } from '../../../plugin/gateway/nodes/drain-gate';
import { NodeRegistry } from '../../../plugin/gateway/nodes/node-registry';
import { openWorkQueue, type DatabaseConfig } from '../../../plugin/gateway/work-queue/open-work-queue';
import type { SqlConnection } from '../../../plugin/gateway/work-queue/sql-connection';
import type { SqlWorkQueue } from '../../../plugin/gateway/work-queue/sql-work-queue';
import { tempDir } from '../../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../../harness/postgres-server';

const HEARTBEAT = 5_000;
const POLICY = { maxAttempts: 3, firstDelayMs: 1_000, maxDelayMs: 60_000 };

for (const backend of ['sqlite', 'postgresql'] as const) {
  describe(`node registry on ${backend} (issue 17)`, () => {
    const dir = tempDir(`nodes-${backend}`);
    let server: RunningPostgres | undefined;
    let clock = 1_700_000_000_000;
    const now = (): number => clock;
    const open: { queue: SqlWorkQueue; sql: SqlConnection }[] = [];
    let database: DatabaseConfig;

    before(async () => {
      if (backend === 'postgresql') server = await startPostgres();
      database = server === undefined ? { Backend: 'sqlite' } : { Backend: 'postgresql', ConnectionUri: server.uri, Schema: 'nodes' };
    });
    after(async () => {
      for (const o of open) await o.queue.close();
      await server?.stop();
      dir.remove();
    });

    /** One more gateway on the database: its own connection. */
    async function gateway(name: string, pid: number): Promise<{ registry: NodeRegistry; queue: SqlWorkQueue; states: string[] }> {
      const opened = await openWorkQueue(database, join(dir.path, 'state.sqlite'), POLICY, now);
      open.push(opened);
      const registry = await NodeRegistry.open(opened.sql, { name, pid, version: 'test', heartbeatMs: HEARTBEAT, now });
      const states: string[] = [];
      registry.onStateChange = (state) => { states.push(state); };
      return { registry, queue: opened.queue, states };
    }

    it('lists every node with its leases and the queue; a drain reaches its node at its next heartbeat; a silent node is not alive', async () => {
      const a = await gateway('node-a', 101);
      const b = await gateway('node-b', 202);
      await a.queue.enqueue({ kind: 'instance', key: 'i1', payload: {} });
      await a.queue.enqueue({ kind: 'instance', key: 'i2', payload: {} });
      await a.queue.enqueue({ kind: 'instance', key: 'i3', payload: {} });
      assert.ok(await b.queue.claim('instance', 'node-b:202', 60_000));
      assert.ok(await b.queue.claim('instance', 'node-b:202', 60_000));
      await a.registry.heartbeat();
      const view = a.registry.view();
      assert.deepEqual(view.nodes.map((n) => [n.name, n.state, n.alive, n.leases]),
        [['node-a', 'active', true, {}], ['node-b', 'active', true, { instance: 2 }]]);
      assert.deepEqual({ ...view.queue['instance'] }, { running: 2, queued: 1 });

      // Drained through node A's API: A's registry writes it, B applies it at its next heartbeat.
      const drained = await a.registry.setState('node-b', 'draining');
      assert.equal(drained.state, 'draining');
      assert.equal(b.registry.draining, false, 'not before its heartbeat');
      await b.registry.heartbeat();
      assert.equal(b.registry.draining, true);
      assert.deepEqual(b.states, ['draining']);
      await assert.rejects(a.registry.setState('node-z', 'draining'), /no node "node-z"/);

      // B falls silent (its process killed): three heartbeat periods later A shows it not alive, leases still listed until they expire.
      clock += 3 * HEARTBEAT + 1;
      await a.registry.heartbeat();
      const later = a.registry.view().nodes.find((n) => n.name === 'node-b');
      assert.deepEqual([later?.alive, later?.follower], [false, false]);

      // Restarted, B registers active again.
      const b2 = await gateway('node-b', 303);
      assert.equal(b2.registry.draining, false);
      assert.equal(b2.registry.view().nodes.find((n) => n.name === 'node-b')?.state, 'active');
      await a.registry.setState('node-b', 'active');
    });

    it('a draining node claims nothing new (drainGate), and again once resumed', async () => {
      const c = await gateway('node-c', 404);
      await c.queue.enqueue({ kind: 'instance', key: 'c1', payload: {} });
      let draining = true;
      const gated = drainGate(c.queue, 'claim', () => draining);
      assert.equal(await gated.claim('instance', 'node-c:404', 60_000), undefined);
      draining = false;
      assert.equal((await gated.claim<unknown>('instance', 'node-c:404', 60_000))?.key !== undefined, true);
    });
  });
}
