/**
 * The central server's data directory: its SQLite database, the admin token
 * and the registry signing key, created on first start. Secrets are 0600 and
 * refused when group or others can read them.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { keygen } from '../plugin/core/model-package';
import { CENTRAL_ADDED_COLUMNS, CENTRAL_SCHEMA } from './central-schema';

export const ADMIN_TOKEN_FILE = 'admin.token';
export const REGISTRY_KEY_FILE = 'registry.key';
export const REGISTRY_PUB_FILE = 'registry.pub';
export const TRAINER_KEY_FILE = 'trainer.key';
export const TRAINER_PUB_FILE = 'trainer.pub';
export const DATABASE_FILE = 'central.sqlite';
export const AUDIT_FILE = 'audit.jsonl';

export interface CentralStore {
  readonly dir: string;
  readonly db: Database.Database;
  readonly adminToken: string;
  readonly registryPrivateKeyPem: string;
  readonly registryPublicKeyPem: string;
  /** Signs the packages training jobs produce, as an author key the registry always trusts. */
  readonly trainerPrivateKeyPem: string;
  readonly trainerPublicKeyPem: string;
  readonly packagesDir: string;
  readonly uploadsDir: string;
}

function readSecret(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new Error(`${path} is readable by group or others (mode ${mode.toString(8)}); chmod 600 it`);
  return readFileSync(path, 'utf8');
}

function writeSecret(path: string, text: string): void {
  // 'wx': never overwrite a secret another process just wrote.
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

function ensureKeyPair(dir: string, privateName: string, publicName: string): string {
  const keyPath = join(dir, privateName);
  if (!existsSync(keyPath)) {
    const pair = keygen();
    writeSecret(keyPath, pair.privateKeyPem);
    writeFileSync(join(dir, publicName), pair.publicKeyPem, { mode: 0o644 });
  }
  return keyPath;
}

export function openCentralStore(dir: string): CentralStore {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenPath = join(dir, ADMIN_TOKEN_FILE);
  if (!existsSync(tokenPath)) writeSecret(tokenPath, `${randomBytes(32).toString('base64url')}\n`);
  const keyPath = ensureKeyPair(dir, REGISTRY_KEY_FILE, REGISTRY_PUB_FILE);
  const trainerPath = ensureKeyPair(dir, TRAINER_KEY_FILE, TRAINER_PUB_FILE);
  const packagesDir = join(dir, 'packages');
  const uploadsDir = join(dir, 'uploads');
  mkdirSync(packagesDir, { recursive: true });
  mkdirSync(uploadsDir, { recursive: true });
  const db = new Database(join(dir, DATABASE_FILE));
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: a commit is not fsynced on its own (it is at checkpoint); a power cut may lose the last
  // few audit rows, never corrupt the database. FULL made every audited poll wait for the disk.
  db.pragma('synchronous = NORMAL');
  db.exec(CENTRAL_SCHEMA);
  for (const [table, column, type] of CENTRAL_ADDED_COLUMNS) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
  return {
    dir, db, packagesDir, uploadsDir,
    adminToken: readSecret(tokenPath).trim(),
    registryPrivateKeyPem: readSecret(keyPath),
    registryPublicKeyPem: readFileSync(join(dir, REGISTRY_PUB_FILE), 'utf8'),
    trainerPrivateKeyPem: readSecret(trainerPath),
    trainerPublicKeyPem: readFileSync(join(dir, TRAINER_PUB_FILE), 'utf8'),
  };
}
