/**
 * De-identified radiology reports from sites, each kept beside its study's
 * uploaded instances (uploads/<site>/studies/<study>/report.txt, the same
 * pseudonymous Study Instance UID their rows carry). A report is checked in
 * memory and written only when accepted (aside, then renamed); a correction
 * from the same site replaces it, another site never does.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type Database from 'better-sqlite3';

import type { StudyReportReceipt } from '../plugin/core/central-api';
import { CentralError } from './central-error';
import { checkDeidentifiedReport } from './deidentified-report-check';

interface ReportRow { site_id: string; sha256: string }

export class StudyReports {
  constructor(readonly db: Database.Database, readonly dir: string) {}

  receive(siteId: string, studyInstanceUid: string, bytes: Buffer, requestId: string | null): { receipt: StudyReportReceipt; created: boolean } {
    checkDeidentifiedReport(studyInstanceUid, bytes);
    const owner = this.db.prepare('SELECT site_id FROM uploads WHERE study_instance_uid = ? AND site_id <> ? LIMIT 1').get(studyInstanceUid, siteId) as { site_id: string } | undefined;
    const other = this.db.prepare('SELECT site_id, sha256 FROM study_reports WHERE study_instance_uid = ? AND site_id <> ? LIMIT 1').get(studyInstanceUid, siteId) as ReportRow | undefined;
    if (owner !== undefined || other !== undefined) throw new CentralError('CENTRAL_DUPLICATE_UPLOAD', 409, 'this Study Instance UID was uploaded by another site');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = this.db.prepare('SELECT site_id, sha256 FROM study_reports WHERE study_instance_uid = ? AND site_id = ?').get(studyInstanceUid, siteId) as ReportRow | undefined;
    if (existing?.sha256 === sha256) return { receipt: { studyInstanceUid, sha256 }, created: false };
    const relative = join(siteId, 'studies', studyInstanceUid, 'report.txt');
    mkdirSync(join(this.dir, siteId, 'studies', studyInstanceUid), { recursive: true });
    const target = join(this.dir, relative);
    writeFileSync(`${target}.tmp`, bytes);
    renameSync(`${target}.tmp`, target);
    this.db.prepare(`INSERT INTO study_reports (site_id, study_instance_uid, request_id, path, bytes, sha256, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (site_id, study_instance_uid) DO UPDATE SET request_id = excluded.request_id, path = excluded.path, bytes = excluded.bytes,
      sha256 = excluded.sha256, received_at = excluded.received_at`).run(siteId, studyInstanceUid, requestId, relative, bytes.length, sha256, new Date().toISOString());
    return { receipt: { studyInstanceUid, sha256 }, created: existing === undefined };
  }
}
