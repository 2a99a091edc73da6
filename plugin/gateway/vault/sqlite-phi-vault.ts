import Database from 'better-sqlite3';

import type { VaultEntry } from '../../core/deid-messages';
import { patientIdentityKey } from '../../core/patient-identity';
import { GatewayError } from '../gateway-errors';
import { ownerOnlyDatabaseFile, PAGE_CACHE_KIB } from '../work-queue/sqlite-connection';
import { linkRecordOf, type LegacyPatient, type LinkRecord, type PhiVault, type VaultCounts, type VaultPatient } from './phi-vault';

/**
 * Schema versions (PRAGMA user_version). A vault is migrated forward when it
 * is opened; no row is ever dropped.
 * - 1: patients keyed by the Patient ID alone (before issue 13).
 * - 2: patients keyed by their identity (issuer, ID, name, birth date; see
 *   plugin/core/patient-identity.ts). Version-1 rows move to `patients_v1`,
 *   read-only: their pseudonyms were derived from the Patient ID alone and
 *   stay readable (`legacyPatient`), and link tokens keep resolving.
 */
const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  { version: 1, sql: `
CREATE TABLE IF NOT EXISTS patients (
  original_id TEXT PRIMARY KEY, pseudonym_id TEXT NOT NULL UNIQUE, pseudonym_name TEXT NOT NULL,
  date_shift_days INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accessions (original TEXT PRIMARY KEY, pseudonym TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS uids (original TEXT PRIMARY KEY, deid TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS link_tokens (
  token TEXT PRIMARY KEY, instance_id TEXT NOT NULL, patient_id TEXT NOT NULL,
  original_sop_uid TEXT NOT NULL, deid_sop_uid TEXT NOT NULL,
  original_study_uid TEXT NOT NULL, deid_study_uid TEXT NOT NULL,
  original_series_uid TEXT NOT NULL, deid_series_uid TEXT NOT NULL,
  created_at INTEGER NOT NULL);` },
  { version: 2, sql: `
ALTER TABLE patients RENAME TO patients_v1;
CREATE TABLE patients (
  identity_key TEXT PRIMARY KEY, issuer TEXT NOT NULL, original_id TEXT NOT NULL, name_key TEXT NOT NULL,
  birth_date TEXT NOT NULL, anonymous_study TEXT NOT NULL,
  pseudonym_id TEXT NOT NULL UNIQUE, pseudonym_name TEXT NOT NULL, date_shift_days INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX patients_by_id ON patients (issuer, original_id);
ALTER TABLE link_tokens ADD COLUMN patient_key TEXT;` },
];

/**
 * phi/vault.sqlite: the pseudonym mapping and link tokens. PHI zone, file
 * mode 0600, written by the gateway alone (workers hand their mappings
 * back). A mapping, once written, never changes: a worker that computes a
 * different pseudonym for a known original (a changed site key, a bug) is
 * refused rather than allowed to fork a patient's identity. Patients are
 * keyed by their identity (issuer, ID, name, birth date), the same key the
 * worker derived the pseudonyms from, so real data (empty or shared IDs)
 * never conflicts; a conflict means the key or the vault changed.
 */
export class SqlitePhiVault implements PhiVault {
  readonly backend = 'sqlite' as const;
  readonly #db: Database.Database;
  /** Compiled once per SQL text (a fixed, small set): every instance's record runs the same few statements. */
  readonly #statements = new Map<string, Database.Statement>();
  readonly #recordInTransaction: (instanceId: string, entry: VaultEntry) => void;

  constructor(path: string) {
    ownerOnlyDatabaseFile(path);
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    // Bounded like the state database's (PAGE_CACHE_KIB): the vault grows by a link token and its UIDs per instance.
    this.#db.pragma(`cache_size = -${String(PAGE_CACHE_KIB)}`);
    this.#migrate();
    this.#recordInTransaction = this.#db.transaction((instanceId: string, entry: VaultEntry) => { this.#record(instanceId, entry); });
  }

  /** PRAGMA user_version of the open vault (2 once migrated). */
  get schemaVersion(): number {
    return this.#db.pragma('user_version', { simple: true }) as number;
  }

  record(instanceId: string, entry: VaultEntry): Promise<void> {
    return settle(() => { this.#recordInTransaction(instanceId, entry); });
  }

  /** Inside one transaction (#recordInTransaction). */
  #record(instanceId: string, entry: VaultEntry): void {
    const now = Date.now();
    const { identity } = entry.patient;
    const patientKey = patientIdentityKey(identity);
    this.#insertOnce('patients', 'identity_key', patientKey, 'pseudonym_id', entry.patient.pseudonymId,
      `INSERT INTO patients (identity_key, issuer, original_id, name_key, birth_date, anonymous_study, pseudonym_id, pseudonym_name,
         date_shift_days, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [patientKey, identity.issuer, identity.id, identity.name, identity.birthDate, identity.anonymousStudy,
        entry.patient.pseudonymId, entry.patient.pseudonymName, entry.patient.dateShiftDays, now]);
    if (entry.accession.original !== '') {
      this.#insertOnce('accessions', 'original', entry.accession.original, 'pseudonym', entry.accession.pseudonym,
        `INSERT INTO accessions (original, pseudonym) VALUES (?, ?)`, [entry.accession.original, entry.accession.pseudonym]);
    }
    for (const [original, deid] of Object.entries(entry.uids)) {
      this.#insertOnce('uids', 'original', original, 'deid', deid, `INSERT INTO uids (original, deid) VALUES (?, ?)`, [original, deid]);
    }
    this.#prepared(
      `INSERT INTO link_tokens (token, instance_id, patient_id, patient_key, original_sop_uid, deid_sop_uid, original_study_uid, deid_study_uid,
         original_series_uid, deid_series_uid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(token) DO UPDATE SET instance_id=excluded.instance_id, patient_key=excluded.patient_key`,
    ).run(entry.linkToken, instanceId, identity.id, patientKey, entry.sopInstanceUid.original, entry.sopInstanceUid.deid,
      entry.studyInstanceUid.original, entry.studyInstanceUid.deid, entry.seriesInstanceUid.original, entry.seriesInstanceUid.deid, now);
  }

  resolve(linkToken: string): Promise<LinkRecord | undefined> {
    return settle(() => this.#resolve(linkToken));
  }

  #resolve(linkToken: string): LinkRecord | undefined {
    const row = this.#prepared(`SELECT * FROM link_tokens WHERE token = ?`).get(linkToken) as Record<string, string> | undefined;
    if (row === undefined) return undefined;
    return linkRecordOf(linkToken, row);
  }

  originalUids(deidUids: readonly string[]): Promise<ReadonlyMap<string, string>> {
    return settle(() => {
      const lookup = this.#prepared(`SELECT original FROM uids WHERE deid = ?`);
      const found = new Map<string, string>();
      for (const deid of new Set(deidUids)) {
        const row = lookup.get(deid) as { original: string } | undefined;
        if (row !== undefined) found.set(deid, row.original);
      }
      return found;
    });
  }

  legacyPatient(originalId: string): Promise<LegacyPatient | undefined> {
    return settle(() => this.#legacyPatient(originalId));
  }

  #legacyPatient(originalId: string): LegacyPatient | undefined {
    const row = this.#db.prepare(`SELECT original_id, pseudonym_id, pseudonym_name, date_shift_days FROM patients_v1 WHERE original_id = ?`)
      .get(originalId) as { original_id: string; pseudonym_id: string; pseudonym_name: string; date_shift_days: number } | undefined;
    return row && { originalId: row.original_id, pseudonymId: row.pseudonym_id, pseudonymName: row.pseudonym_name, dateShiftDays: row.date_shift_days };
  }

  pseudonymsForId(issuer: string, originalId: string): Promise<VaultPatient[]> {
    return settle(() => (this.#db.prepare(`SELECT pseudonym_id, name_key, birth_date FROM patients WHERE issuer = ? AND original_id = ? ORDER BY created_at, pseudonym_id`)
      .all(issuer.trim(), originalId.trim()) as { pseudonym_id: string; name_key: string; birth_date: string }[])
      .map((r) => ({ pseudonymId: r.pseudonym_id, nameKey: r.name_key, birthDate: r.birth_date })));
  }

  counts(): Promise<VaultCounts> {
    const count = (table: string): number => (this.#db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return settle(() => ({ patients: count('patients'), legacyPatients: count('patients_v1'), uids: count('uids'), linkTokens: count('link_tokens') }));
  }

  /** One gateway, one key: the de-identification worker creates phi/site.key on its first start. */
  shareSiteKey(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return settle(() => { this.#db.close(); });
  }

  #migrate(): void {
    // A vault made before versions were recorded has the version-1 tables and user_version 0.
    const legacy = this.#db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'link_tokens'`).get() !== undefined;
    let version = this.schemaVersion;
    if (version === 0 && legacy) version = 1;
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      this.#db.transaction(() => {
        this.#db.exec(migration.sql);
        this.#db.pragma(`user_version = ${String(migration.version)}`);
      })();
      version = migration.version;
    }
  }

  #prepared(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #insertOnce(table: string, keyColumn: string, key: string, valueColumn: string, value: string, insert: string, params: unknown[]): void {
    const existing = this.#prepared(`SELECT ${valueColumn} AS v FROM ${table} WHERE ${keyColumn} = ?`).get(key) as { v: string } | undefined;
    if (existing === undefined) {
      try {
        this.#prepared(insert).run(...params);
      } catch (error) {
        // The pseudonym is already another original's: only a changed site key or an HMAC collision (2^-80) gets here.
        if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new GatewayError('AIB_VAULT_CONFLICT', `the vault maps another ${table} entry to this pseudonym; refusing to record it`, { table });
        }
        throw error;
      }
      return;
    }
    if (existing.v !== value) {
      throw new GatewayError('AIB_VAULT_CONFLICT', `the vault maps this ${table} entry to another pseudonym; refusing to overwrite it`, { table });
    }
  }
}

/** The synchronous answer as a promise, a throw as a rejection: the PhiVault contract is asynchronous because PostgreSQL's is. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
