import { chmodSync, closeSync, openSync } from 'node:fs';

import Database from 'better-sqlite3';

import type { VaultEntry } from '../../core/deid-messages';
import { GatewayError } from '../gateway-errors';

/** What relinking needs to put a result back on the original study. */
export interface LinkRecord {
  readonly linkToken: string;
  readonly instanceId: string;
  readonly patientId: string;
  readonly sopInstanceUid: { readonly original: string; readonly deid: string };
  readonly studyInstanceUid: { readonly original: string; readonly deid: string };
  readonly seriesInstanceUid: { readonly original: string; readonly deid: string };
}

const SCHEMA = `
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
  created_at INTEGER NOT NULL);
`;

/**
 * phi/vault.sqlite: the pseudonym mapping and link tokens. PHI zone, file
 * mode 0600, written by the gateway alone (workers hand their mappings
 * back). A mapping, once written, never changes: a worker that computes a
 * different pseudonym for a known original (a changed site key, a bug) is
 * refused rather than allowed to fork a patient's identity.
 */
export class PhiVault {
  readonly #db: Database.Database;

  constructor(path: string) {
    // Create the file owner-only before SQLite opens it.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(SCHEMA);
  }

  record(instanceId: string, entry: VaultEntry): void {
    const now = Date.now();
    this.#db.transaction(() => {
      this.#insertOnce('patients', 'original_id', entry.patient.id, 'pseudonym_id', entry.patient.pseudonymId,
        `INSERT INTO patients (original_id, pseudonym_id, pseudonym_name, date_shift_days, created_at) VALUES (?, ?, ?, ?, ?)`,
        [entry.patient.id, entry.patient.pseudonymId, entry.patient.pseudonymName, entry.patient.dateShiftDays, now]);
      if (entry.accession.original !== '') {
        this.#insertOnce('accessions', 'original', entry.accession.original, 'pseudonym', entry.accession.pseudonym,
          `INSERT INTO accessions (original, pseudonym) VALUES (?, ?)`, [entry.accession.original, entry.accession.pseudonym]);
      }
      for (const [original, deid] of Object.entries(entry.uids)) {
        this.#insertOnce('uids', 'original', original, 'deid', deid, `INSERT INTO uids (original, deid) VALUES (?, ?)`, [original, deid]);
      }
      this.#db.prepare(
        `INSERT INTO link_tokens (token, instance_id, patient_id, original_sop_uid, deid_sop_uid, original_study_uid, deid_study_uid,
           original_series_uid, deid_series_uid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(token) DO UPDATE SET instance_id=excluded.instance_id`,
      ).run(entry.linkToken, instanceId, entry.patient.id, entry.sopInstanceUid.original, entry.sopInstanceUid.deid,
        entry.studyInstanceUid.original, entry.studyInstanceUid.deid, entry.seriesInstanceUid.original, entry.seriesInstanceUid.deid, now);
    })();
  }

  resolve(linkToken: string): LinkRecord | undefined {
    const row = this.#db.prepare(`SELECT * FROM link_tokens WHERE token = ?`).get(linkToken) as Record<string, string> | undefined;
    if (row === undefined) return undefined;
    const get = (column: string): string => row[column] ?? '';
    return {
      linkToken, instanceId: get('instance_id'), patientId: get('patient_id'),
      sopInstanceUid: { original: get('original_sop_uid'), deid: get('deid_sop_uid') },
      studyInstanceUid: { original: get('original_study_uid'), deid: get('deid_study_uid') },
      seriesInstanceUid: { original: get('original_series_uid'), deid: get('deid_series_uid') },
    };
  }

  /** The original of a UID the de-identification made, or undefined if it never made it. */
  originalUid(deidUid: string): string | undefined {
    const row = this.#db.prepare(`SELECT original FROM uids WHERE deid = ?`).get(deidUid) as { original: string } | undefined;
    return row?.original;
  }

  counts(): { patients: number; uids: number; linkTokens: number } {
    const count = (table: string): number => (this.#db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { patients: count('patients'), uids: count('uids'), linkTokens: count('link_tokens') };
  }

  close(): void {
    this.#db.close();
  }

  #insertOnce(table: string, keyColumn: string, key: string, valueColumn: string, value: string, insert: string, params: unknown[]): void {
    const existing = this.#db.prepare(`SELECT ${valueColumn} AS v FROM ${table} WHERE ${keyColumn} = ?`).get(key) as { v: string } | undefined;
    if (existing === undefined) {
      this.#db.prepare(insert).run(...params);
      return;
    }
    if (existing.v !== value) {
      throw new GatewayError('AIB_VAULT_CONFLICT', `the vault maps this ${table} entry to another pseudonym; refusing to overwrite it`, { table });
    }
  }
}
