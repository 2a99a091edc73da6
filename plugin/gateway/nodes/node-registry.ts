import type { ClusterView, NodeView } from '../../core/admin-api';
import { GatewayError } from '../gateway-errors';
import type { SqlConnection } from '../work-queue/sql-connection';

export interface NodeRegistryOptions {
  /** AiBridge.NodeName (default host name and HTTP port): the lease owner prefix of this node's claims. */
  readonly name: string;
  readonly pid: number;
  readonly version: string;
  readonly heartbeatMs: number;
  readonly now?: () => number;
}

type NodeState = NodeView['state'];

interface NodeRow {
  name: string; state: string; pid: number; version: string; follower: number; started_at: number; heartbeat_at: number;
}

/** A node is alive while its heartbeats keep coming: three periods, so one slow round is not a death. */
const ALIVE_PERIODS = 3;

/**
 * Where the gateways that share one database say who they are: one row per
 * node (name, pid, version, whether it follows the change log, last
 * heartbeat) and its state, active or draining. The table sits beside the
 * work queue's (same schema, same connection); on SQLite it holds the one
 * gateway. Each heartbeat refreshes this node's row and reads everyone's,
 * with the leases each holds and the queue's counts, so /ai-bridge/health
 * answers from memory.
 *
 * A node is drained through any node (POST /ai-bridge/nodes/{name}/drain):
 * the row changes, and the drained node sees it at its next heartbeat,
 * claims no new work, finishes what it holds and hands the change-log
 * follower lock on. A node registers active at every start.
 */
export class NodeRegistry {
  readonly #sql: SqlConnection;
  readonly #options: NodeRegistryOptions;
  readonly #now: () => number;
  #state: NodeState = 'active';
  #view: ClusterView;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #follower: () => boolean = () => false;

  /** Called when this node's own state changed (through this node's API or another's). */
  onStateChange: (state: NodeState) => void = () => undefined;

  private constructor(sql: SqlConnection, options: NodeRegistryOptions) {
    this.#sql = sql;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#view = { node: options.name, backend: sql.dialect, nodes: [], queue: {} };
  }

  static async open(sql: SqlConnection, options: NodeRegistryOptions): Promise<NodeRegistry> {
    // Created here rather than by a work-queue migration: the registry is not work, and any version of the queue can carry it.
    await sql.run(`CREATE TABLE IF NOT EXISTS gateway_nodes (
      name TEXT PRIMARY KEY, state TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
      follower INTEGER NOT NULL DEFAULT 0, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)`);
    const registry = new NodeRegistry(sql, options);
    const now = registry.#now();
    await sql.run(
      `INSERT INTO gateway_nodes (name, state, pid, version, follower, started_at, heartbeat_at) VALUES (?, 'active', ?, ?, 0, ?, ?)
       ON CONFLICT (name) DO UPDATE SET state = 'active', pid = excluded.pid, version = excluded.version, follower = 0,
         started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      [options.name, options.pid, options.version, now, now]);
    await registry.#refresh();
    return registry;
  }

  get name(): string {
    return this.#options.name;
  }

  get draining(): boolean {
    return this.#state === 'draining';
  }

  /** The cluster as of the last heartbeat. */
  view(): ClusterView {
    return this.#view;
  }

  /** Heartbeats every heartbeatMs; `follower` says whether this node follows the change log now. */
  start(follower: () => boolean): void {
    this.#follower = follower;
    const beat = (): void => {
      this.#timer = setTimeout(() => {
        // A database that is briefly away: the next beat tries again; the view stays as it was.
        void this.heartbeat().catch(() => undefined).finally(() => { if (this.#timer !== undefined) beat(); });
      }, this.#options.heartbeatMs);
      this.#timer.unref();
    };
    beat();
  }

  async heartbeat(): Promise<void> {
    this.#beating ??= this.#heartbeat().finally(() => { this.#beating = undefined; });
    return this.#beating;
  }

  /** Sets a node's state (drain or resume); the node itself applies it at its next heartbeat, this node at once. */
  async setState(name: string, state: NodeState): Promise<NodeView> {
    const changed = await this.#sql.run(`UPDATE gateway_nodes SET state = ? WHERE name = ?`, [state, name]);
    if (changed === 0) throw new GatewayError('AIB_API_NOT_FOUND', `no node "${name}" in the node registry`, { node: name });
    if (name === this.#options.name) this.#apply(state);
    await this.#refresh();
    const view = this.#view.nodes.find((n) => n.name === name);
    if (view === undefined) throw new GatewayError('AIB_API_NOT_FOUND', `no node "${name}" in the node registry`, { node: name });
    return view;
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#beating;
    // A clean stop says so at once: the others need not wait for the heartbeat to age.
    await this.#sql.run(`UPDATE gateway_nodes SET heartbeat_at = 0, follower = 0 WHERE name = ? AND pid = ?`, [this.#options.name, this.#options.pid])
      .catch(() => undefined);
  }

  async #heartbeat(): Promise<void> {
    const rows = await this.#sql.all<{ state: string }>(
      `UPDATE gateway_nodes SET heartbeat_at = ?, follower = ?, pid = ? WHERE name = ? RETURNING state`,
      [this.#now(), this.#follower() ? 1 : 0, this.#options.pid, this.#options.name]);
    const state = rows[0]?.state;
    if (state === 'active' || state === 'draining') this.#apply(state);
    await this.#refresh();
  }

  #apply(state: NodeState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.onStateChange(state);
  }

  async #refresh(): Promise<void> {
    const now = this.#now();
    const rows = await this.#sql.all<NodeRow>(`SELECT * FROM gateway_nodes ORDER BY name`);
    // Lease owners are a node's name, or its name and a suffix after ':' (work-queue.ts, expireLeasesOf).
    const leases = await this.#sql.all<{ owner: string; kind: string; n: number }>(
      `SELECT lease_owner AS owner, kind, COUNT(*) AS n FROM work_items WHERE state = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner, kind`);
    const counts = await this.#sql.all<{ kind: string; state: string; n: number }>(`SELECT kind, state, COUNT(*) AS n FROM work_items GROUP BY kind, state`);
    const queue: Record<string, Record<string, number>> = {};
    for (const c of counts) (queue[c.kind] ??= {})[c.state] = c.n;
    this.#view = {
      node: this.#options.name,
      backend: this.#sql.dialect,
      queue,
      nodes: rows.map((row): NodeView => {
        const held: Record<string, number> = {};
        for (const lease of leases) {
          if (lease.owner === row.name || lease.owner.startsWith(`${row.name}:`)) held[lease.kind] = (held[lease.kind] ?? 0) + lease.n;
        }
        return {
          name: row.name, state: row.state === 'draining' ? 'draining' : 'active',
          alive: now - row.heartbeat_at <= ALIVE_PERIODS * this.#options.heartbeatMs,
          follower: row.follower === 1 && now - row.heartbeat_at <= ALIVE_PERIODS * this.#options.heartbeatMs, pid: row.pid, version: row.version,
          startedAt: new Date(row.started_at).toISOString(), heartbeatAt: new Date(row.heartbeat_at).toISOString(),
          leases: held,
        };
      }),
    };
  }
}
