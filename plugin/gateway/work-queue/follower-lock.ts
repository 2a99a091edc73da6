import pg from 'pg';

import type { DatabaseConfig } from './open-work-queue';

/**
 * Which node follows Orthanc's change log: one at a time, so each change
 * becomes one job. On PostgreSQL a session advisory lock on a connection of
 * its own: the server drops it when the holder's session ends (its node died,
 * or the network cut it off), and the next node's tryAcquire() takes it. On
 * SQLite one gateway owns state.sqlite, so it always follows.
 */
export interface FollowerLock {
  /** True when this node holds the lock (now or already). */
  tryAcquire(): Promise<boolean>;
  /** Whether the lock is still held: false once the session that held it is gone. */
  readonly held: boolean;
  release(): Promise<void>;
  /**
   * A node that does not follow tells the follower that its Orthanc stored
   * something: an Orthanc node hears only its own stores, and the follower
   * would otherwise find another node's only at its next poll.
   */
  nudge(): Promise<void>;
  /** While this node holds the lock, `listener` hears the other nodes' nudges. */
  onNudge(listener: () => void): void;
  /**
   * The follower tells every node that it queued work: a node claims when
   * its own pipeline is kicked, and only the follower records the changes,
   * so without this the other nodes would wait for their next timer.
   */
  announceWork(): Promise<void>;
  /** `listener` hears announceWork() of any node (this one included). */
  onWork(listener: () => void): void;
}

/** Advisory lock key: "AIBF", the follower (the migrations use "AIBQ"). */
const FOLLOWER_LOCK = 0x41494246;
/** LISTEN/NOTIFY channel of the nudges; the follower's session listens, so a nudge reaches whichever node holds the lock. */
const NUDGE_CHANNEL = 'aibridge_changes';
/** Channel of announceWork(): every node's session listens. */
const WORK_CHANNEL = 'aibridge_work';

class PostgresFollowerLock implements FollowerLock {
  readonly #uri: string;
  #client: pg.Client | undefined;
  #held = false;
  #listener: () => void = () => undefined;
  #workListener: () => void = () => undefined;

  constructor(uri: string) {
    this.#uri = uri;
  }

  get held(): boolean {
    return this.#held;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.#held) return true;
    if (this.#client === undefined) {
      const client = new pg.Client({ connectionString: this.#uri });
      // A lost session loses the lock with it; the next tryAcquire() opens a new one.
      client.on('error', () => { this.#lost(client); });
      client.on('end', () => { this.#lost(client); });
      client.on('notification', (message) => {
        if (message.channel === WORK_CHANNEL) this.#workListener();
        else if (this.#held) this.#listener();
      });
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
      this.#client = client;
    }
    const rows = (await this.#client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [FOLLOWER_LOCK])).rows;
    this.#held = rows[0]?.locked === true;
    if (this.#held) await this.#client.query(`LISTEN ${NUDGE_CHANNEL}`);
    return this.#held;
  }

  async nudge(): Promise<void> {
    if (this.#held || this.#client === undefined) return;
    await this.#client.query('SELECT pg_notify($1, $2)', [NUDGE_CHANNEL, '']);
  }

  onNudge(listener: () => void): void {
    this.#listener = listener;
  }

  async announceWork(): Promise<void> {
    await this.#client?.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, '']);
  }

  onWork(listener: () => void): void {
    this.#workListener = listener;
  }

  async release(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#held = false;
    // Ending the session releases the lock.
    await client?.end().catch(() => undefined);
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#held = false;
  }
}

const ALWAYS: FollowerLock = {
  held: true, tryAcquire: () => Promise.resolve(true), release: () => Promise.resolve(), nudge: () => Promise.resolve(), onNudge: () => undefined,
  announceWork: () => Promise.resolve(), onWork: () => undefined,
};

export function followerLock(database: DatabaseConfig): FollowerLock {
  return database.Backend === 'sqlite' ? ALWAYS : new PostgresFollowerLock(database.ConnectionUri);
}
