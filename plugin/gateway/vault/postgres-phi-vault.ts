import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import pg from 'pg';

import type { VaultEntry } from '../../core/deid-messages';
import { patientIdentityKey } from '../../core/patient-identity';
import { GatewayError } from '../gateway-errors';
import { linkRecordOf, type LegacyPatient, type LinkRecord, type PhiVault, type VaultCounts, type VaultPatient } from './phi-vault';

/** int8 (epoch ms, COUNT(*)) as numbers: both stay far below 2^53. */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

const SITE_KEY_BYTES = 32;
/** Advisory lock key for the schema's creation: "AIBV" (the queue uses "AIBQ", the follower "AIBF"). */
const SCHEMA_LOCK = 0x41494256;
/** SQLSTATEs: unique_violation; deadlock_detected and serialization_failure, which a retry of the transaction resolves. */
const UNIQUE_VIOLATION = '23505';
const RETRYABLE = new Set(['40P01', '40001']);
const TRANSACTION_ATTEMPTS = 4;

/**
 * The schema of vault.sqlite version 2, in PostgreSQL. REVOKE … FROM PUBLIC:
 * only the role that created the schema (the gateways' role) and superusers
 * can use it, so another role of the same database (a reporting tool, an
 * Orthanc connecting with its own role) cannot read PHI through it. The
 * de-identified zone holds no database connection at all (sealed, no
 * sockets).
 */
const SCHEMA_SQL = (schema: string): string[] => [
  `CREATE SCHEMA IF NOT EXISTS ${schema}`,
  `REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`,
  `CREATE TABLE IF NOT EXISTS ${schema}.patients (
    identity_key TEXT PRIMARY KEY, issuer TEXT NOT NULL, original_id TEXT NOT NULL, name_key TEXT NOT NULL,
    birth_date TEXT NOT NULL, anonymous_study TEXT NOT NULL,
    pseudonym_id TEXT NOT NULL UNIQUE, pseudonym_name TEXT NOT NULL, date_shift_days INTEGER NOT NULL, created_at BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS patients_by_id ON ${schema}.patients (issuer, original_id)`,
  `CREATE TABLE IF NOT EXISTS ${schema}.accessions (original TEXT PRIMARY KEY, pseudonym TEXT NOT NULL UNIQUE)`,
  `CREATE TABLE IF NOT EXISTS ${schema}.uids (original TEXT PRIMARY KEY, deid TEXT NOT NULL UNIQUE)`,
  `CREATE TABLE IF NOT EXISTS ${schema}.link_tokens (
    token TEXT PRIMARY KEY, instance_id TEXT NOT NULL, patient_id TEXT NOT NULL, patient_key TEXT,
    original_sop_uid TEXT NOT NULL, deid_sop_uid TEXT NOT NULL,
    original_study_uid TEXT NOT NULL, deid_study_uid TEXT NOT NULL,
    original_series_uid TEXT NOT NULL, deid_series_uid TEXT NOT NULL,
    created_at BIGINT NOT NULL)`,
  // One row: the site key every node's de-identification workers use.
  `CREATE TABLE IF NOT EXISTS ${schema}.site_key (
    id SMALLINT PRIMARY KEY CHECK (id = 1), key BYTEA NOT NULL CHECK (length(key) = ${String(SITE_KEY_BYTES)}), created_at BIGINT NOT NULL)`,
];

export interface PostgresVaultOptions {
  readonly connectionUri: string;
  /** AiBridge.Database.PhiSchema: the PHI schema, apart from the queue's. */
  readonly schema: string;
  readonly maxConnections?: number;
}

type Tx = pg.PoolClient;

/**
 * The PHI vault in its own schema of the database several Orthanc nodes
 * share. Two nodes that see a new patient at the same moment both compute the
 * same pseudonym (same site key, same identity): INSERT … ON CONFLICT DO
 * NOTHING lets the first write it and the second find it, so the patient has
 * one row; a different pseudonym is still refused (AIB_VAULT_CONFLICT).
 */
export class PostgresPhiVault implements PhiVault {
  readonly backend = 'postgresql' as const;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  static async open(options: PostgresVaultOptions): Promise<PostgresPhiVault> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new GatewayError('AIB_CONFIG_BAD_VALUE', `AiBridge.Database.PhiSchema "${options.schema}" is not a lower-case SQL identifier`, { key: 'AiBridge.Database.PhiSchema' });
    }
    const schema = `"${options.schema}"`;
    const pool = new pg.Pool({ connectionString: options.connectionUri, max: options.maxConnections ?? 4, types, options: `-c search_path=${schema}` });
    // An idle client that loses its server emits 'error'; unhandled it would end the gateway. The next query reconnects.
    pool.on('error', () => undefined);
    const vault = new PostgresPhiVault(pool);
    try {
      await vault.#transaction(async (tx) => {
        // Two nodes starting at once: one creates, the other waits and finds.
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        for (const statement of SCHEMA_SQL(schema)) await tx.query(statement);
      });
    } catch (error) {
      await pool.end();
      throw new GatewayError('AIB_QUEUE_DATABASE_UNREACHABLE',
        `PostgreSQL (AiBridge.Database.ConnectionUri) refused the PHI vault's schema ${options.schema}: ${error instanceof Error ? error.message : String(error)}`,
        { key: 'AiBridge.Database.ConnectionUri' }, true);
    }
    return vault;
  }

  record(instanceId: string, entry: VaultEntry): Promise<void> {
    const now = Date.now();
    const { identity } = entry.patient;
    const patientKey = patientIdentityKey(identity);
    return this.#transaction(async (tx) => {
      await insertOnce(tx, 'patients', 'identity_key', patientKey, 'pseudonym_id', entry.patient.pseudonymId,
        `INSERT INTO patients (identity_key, issuer, original_id, name_key, birth_date, anonymous_study, pseudonym_id, pseudonym_name,
           date_shift_days, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (identity_key) DO NOTHING`,
        [patientKey, identity.issuer, identity.id, identity.name, identity.birthDate, identity.anonymousStudy,
          entry.patient.pseudonymId, entry.patient.pseudonymName, entry.patient.dateShiftDays, now]);
      if (entry.accession.original !== '') {
        await insertOnce(tx, 'accessions', 'original', entry.accession.original, 'pseudonym', entry.accession.pseudonym,
          `INSERT INTO accessions (original, pseudonym) VALUES ($1, $2) ON CONFLICT (original) DO NOTHING`,
          [entry.accession.original, entry.accession.pseudonym]);
      }
      await insertUids(tx, entry.uids);
      await guarded('link_tokens', () => tx.query(
        `INSERT INTO link_tokens (token, instance_id, patient_id, patient_key, original_sop_uid, deid_sop_uid, original_study_uid, deid_study_uid,
           original_series_uid, deid_series_uid, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (token) DO UPDATE SET instance_id = excluded.instance_id, patient_key = excluded.patient_key`,
        [entry.linkToken, instanceId, identity.id, patientKey, entry.sopInstanceUid.original, entry.sopInstanceUid.deid,
          entry.studyInstanceUid.original, entry.studyInstanceUid.deid, entry.seriesInstanceUid.original, entry.seriesInstanceUid.deid, now]));
    });
  }

  async resolve(linkToken: string): Promise<LinkRecord | undefined> {
    const row = (await this.#pool.query<Record<string, string>>(`SELECT * FROM link_tokens WHERE token = $1`, [linkToken])).rows[0];
    if (row === undefined) return undefined;
    return linkRecordOf(linkToken, row);
  }

  async originalUids(deidUids: readonly string[]): Promise<ReadonlyMap<string, string>> {
    if (deidUids.length === 0) return new Map();
    const rows = (await this.#pool.query<{ original: string; deid: string }>(
      `SELECT original, deid FROM uids WHERE deid = ANY($1::text[])`, [[...new Set(deidUids)]])).rows;
    return new Map(rows.map((r) => [r.deid, r.original]));
  }

  /** A PostgreSQL vault was never a version-1 vault: no patient is keyed by the Patient ID alone. */
  legacyPatient(): Promise<LegacyPatient | undefined> {
    return Promise.resolve(undefined);
  }

  async pseudonymsForId(issuer: string, originalId: string): Promise<VaultPatient[]> {
    const rows = (await this.#pool.query<{ pseudonym_id: string; name_key: string; birth_date: string }>(
      `SELECT pseudonym_id, name_key, birth_date FROM patients WHERE issuer = $1 AND original_id = $2 ORDER BY created_at, pseudonym_id`,
      [issuer.trim(), originalId.trim()])).rows;
    return rows.map((r) => ({ pseudonymId: r.pseudonym_id, nameKey: r.name_key, birthDate: r.birth_date }));
  }

  async counts(): Promise<VaultCounts> {
    const row = (await this.#pool.query<{ patients: number; uids: number; link_tokens: number }>(
      `SELECT (SELECT COUNT(*) FROM patients) AS patients, (SELECT COUNT(*) FROM uids) AS uids, (SELECT COUNT(*) FROM link_tokens) AS link_tokens`)).rows[0];
    return { patients: row?.patients ?? 0, legacyPatients: 0, uids: row?.uids ?? 0, linkTokens: row?.link_tokens ?? 0 };
  }

  /**
   * The first node to start publishes its key (its existing phi/site.key, or
   * a fresh one); every other node writes that key into its own
   * phi/site.key (mode 0600) before its workers start. A node whose existing
   * key differs refuses to start (AIB_VAULT_SITE_KEY_MISMATCH): its
   * pseudonyms would not be the other nodes'.
   */
  async shareSiteKey(siteKeyFile: string): Promise<void> {
    const local = existsSync(siteKeyFile) ? readFileSync(siteKeyFile) : undefined;
    await this.#pool.query(`INSERT INTO site_key (id, key, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`,
      [local?.length === SITE_KEY_BYTES ? local : randomBytes(SITE_KEY_BYTES), Date.now()]);
    const shared = (await this.#pool.query<{ key: Buffer }>(`SELECT key FROM site_key WHERE id = 1`)).rows[0]?.key;
    if (shared === undefined) throw new Error('the site_key row vanished');
    if (local === undefined) {
      // O_EXCL: a key that appeared meanwhile is not overwritten (it is compared at the next start).
      writeFileSync(siteKeyFile, shared, { mode: 0o600, flag: 'wx' });
      return;
    }
    if (!local.equals(shared)) {
      throw new GatewayError('AIB_VAULT_SITE_KEY_MISMATCH',
        `${siteKeyFile} is not the site key the other nodes share (PHI vault in PostgreSQL); move it away to take the shared key, or restore the shared one`,
        { file: siteKeyFile });
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }

  /** One transaction, tried again on a deadlock or serialization failure (two nodes inserting the same series' UIDs). */
  async #transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (attempt >= TRANSACTION_ATTEMPTS || !RETRYABLE.has(sqlState(error))) throw error;
      } finally {
        client.release();
      }
    }
  }
}

function sqlState(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : '';
}

/** A unique violation on a pseudonym column: another original already has this pseudonym. */
async function guarded<T>(table: string, statement: () => Promise<T>): Promise<T> {
  try {
    return await statement();
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) {
      throw new GatewayError('AIB_VAULT_CONFLICT', `the vault maps another ${table} entry to this pseudonym; refusing to record it`, { table });
    }
    throw error;
  }
}

async function insertOnce(tx: Tx, table: string, keyColumn: string, key: string, valueColumn: string, value: string, insert: string, params: unknown[]): Promise<void> {
  await guarded(table, () => tx.query(insert, params));
  // Read Committed: a concurrent inserter of the same key has committed (ON CONFLICT waited for it), so this sees its row.
  const existing = (await tx.query<{ v: string }>(`SELECT ${valueColumn} AS v FROM ${table} WHERE ${keyColumn} = $1`, [key])).rows[0];
  if (existing?.v !== value) {
    throw new GatewayError('AIB_VAULT_CONFLICT', `the vault maps this ${table} entry to another pseudonym; refusing to overwrite it`, { table });
  }
}

/** All of an instance's UIDs in two statements; sorted, so two nodes inserting one series' UIDs lock them in the same order. */
async function insertUids(tx: Tx, uids: Readonly<Record<string, string>>): Promise<void> {
  const pairs = Object.entries(uids).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (pairs.length === 0) return;
  const originals = pairs.map(([o]) => o);
  await guarded('uids', () => tx.query(
    `INSERT INTO uids (original, deid) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (original) DO NOTHING`, [originals, pairs.map(([, d]) => d)]));
  const stored = new Map((await tx.query<{ original: string; deid: string }>(`SELECT original, deid FROM uids WHERE original = ANY($1::text[])`, [originals]))
    .rows.map((r) => [r.original, r.deid]));
  for (const [original, deid] of pairs) {
    if (stored.get(original) !== deid) {
      throw new GatewayError('AIB_VAULT_CONFLICT', 'the vault maps this uids entry to another pseudonym; refusing to overwrite it', { table: 'uids' });
    }
  }
}
