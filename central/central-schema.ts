/**
 * The central server's tables (DIR/central.sqlite). The audit table is
 * append-only: nothing updates or deletes it. sites.models_json NULL (a site
 * added before entitlements were required) means no model, like '[]'.
 */
export const CENTRAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('serial', '0');
CREATE TABLE IF NOT EXISTS sites (
  site_id TEXT PRIMARY KEY, name TEXT NOT NULL, models_json TEXT, token_sha256 TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL, last_seen_at TEXT, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS models (
  id TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL, unit TEXT NOT NULL,
  modalities_json TEXT NOT NULL, body_parts_json TEXT NOT NULL,
  manifest_sha256 TEXT NOT NULL, model_sha256 TEXT NOT NULL, content_sha256 TEXT NOT NULL,
  author_key_id TEXT NOT NULL, author_pem TEXT NOT NULL, published_at TEXT NOT NULL,
  training_job_id TEXT, PRIMARY KEY (id, version));
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY, site_id TEXT NOT NULL, sop_instance_uid TEXT NOT NULL UNIQUE,
  study_instance_uid TEXT NOT NULL, modality TEXT NOT NULL, body_part TEXT NOT NULL,
  request_id TEXT, path TEXT NOT NULL, bytes INTEGER NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS study_reports (
  site_id TEXT NOT NULL, study_instance_uid TEXT NOT NULL, request_id TEXT, path TEXT NOT NULL, bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (site_id, study_instance_uid));
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY, modality TEXT NOT NULL, body_part TEXT NOT NULL, studies_per_site INTEGER NOT NULL,
  reason TEXT NOT NULL, created_at TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS request_progress (
  request_id TEXT NOT NULL, site_id TEXT NOT NULL, studies_found INTEGER NOT NULL, studies_uploaded INTEGER NOT NULL,
  instances_uploaded INTEGER NOT NULL, state TEXT NOT NULL, detail TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (request_id, site_id));
CREATE TABLE IF NOT EXISTS training_jobs (id TEXT PRIMARY KEY, view_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, method TEXT NOT NULL,
  path TEXT NOT NULL, status INTEGER NOT NULL, bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, result TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
`;

/** Columns added after a table's first release: [table, column, type]. */
export const CENTRAL_ADDED_COLUMNS: readonly (readonly [string, string, string])[] = [
  ['sites', 'revoked_at', 'TEXT'],
];
