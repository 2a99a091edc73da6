// A second gateway in its own process, for the queue tests: opens the queue
// named by argv, claims and completes 'instance' items until none is due,
// and prints the ids it got as one JSON line. With HOLD_COUNT and LEASE_MS it
// claims that many items, prints them, and then hangs without finishing them,
// a node about to die.
import { openWorkQueue, type DatabaseConfig } from '../../../plugin/gateway/work-queue/open-work-queue';

async function main(): Promise<void> {
  const [databaseJson, stateDb, owner, holdCount, leaseMs] = process.argv.slice(2);
  if (databaseJson === undefined || stateDb === undefined || owner === undefined) throw new Error('usage: claimer-process DATABASE_JSON STATE_DB OWNER [HOLD_COUNT LEASE_MS]');
  const { queue } = await openWorkQueue(JSON.parse(databaseJson) as DatabaseConfig, stateDb, { maxAttempts: 3, firstDelayMs: 1_000, maxDelayMs: 60_000 });
  const got: number[] = [];
  if (holdCount !== undefined) {
    for (let i = 0; i < Number(holdCount); i++) {
      const item = await queue.claim('instance', owner, Number(leaseMs));
      if (item !== undefined) got.push(item.id);
    }
    process.stdout.write(`${JSON.stringify(got)}\n`);
    // Keeps the process (and its connections) alive until it is killed.
    setInterval(() => undefined, 60_000);
    return;
  }
  for (;;) {
    const item = await queue.claim('instance', owner, 60_000);
    if (item === undefined) break;
    got.push(item.id);
    await queue.complete(item.id, owner, `done by ${owner}`);
  }
  await queue.close();
  process.stdout.write(`${JSON.stringify(got)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
