/**
 * De-identified instances from sites, kept for training. A refused upload
 * leaves nothing behind: the checks run on the bytes in memory, and only an
 * accepted instance is written (aside, then renamed) and recorded.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type Database from 'better-sqlite3';

import type { ScanCategoryRef, UploadReceipt } from '../plugin/core/central-api';
import { CentralError } from './central-error';
import { checkDeidentified } from './deidentified-check';

export interface StoredUpload {
  readonly uploadId: string;
  readonly siteId: string;
  readonly sopInstanceUid: string;
  readonly category: ScanCategoryRef;
  readonly path: string;
}

interface UploadRow { upload_id: string; site_id: string; sop_instance_uid: string; modality: string; body_part: string; path: string }

export class TrainingIntake {
  constructor(readonly db: Database.Database, readonly dir: string) {}

  receive(siteId: string, bytes: Buffer, requestId: string | null): { receipt: UploadReceipt; created: boolean } {
    const checked = checkDeidentified(bytes);
    const existing = this.db.prepare('SELECT * FROM uploads WHERE sop_instance_uid = ?').get(checked.sopInstanceUid) as UploadRow | undefined;
    if (existing !== undefined) {
      // A site retrying after a lost answer gets the same receipt; another site never overwrites it. A copy the site
      // de-identified again (its study's report came later and named more identifiers) replaces the stored one in place.
      if (existing.site_id !== siteId) throw new CentralError('CENTRAL_DUPLICATE_UPLOAD', 409, 'this SOP Instance UID was uploaded by another site');
      const target = join(this.dir, existing.path);
      if (!existsSync(target) || !readFileSync(target).equals(bytes)) {
        writeFileSync(`${target}.tmp`, bytes);
        renameSync(`${target}.tmp`, target);
        this.db.prepare('UPDATE uploads SET modality = ?, body_part = ?, bytes = ?, received_at = ? WHERE upload_id = ?')
          .run(checked.category.modality, checked.category.bodyPart, bytes.length, new Date().toISOString(), existing.upload_id);
      }
      return { receipt: { uploadId: existing.upload_id, sopInstanceUid: existing.sop_instance_uid, category: checked.category }, created: false };
    }
    const uploadId = `up-${randomBytes(8).toString('hex')}`;
    const relative = join(siteId, `${uploadId}.dcm`);
    mkdirSync(join(this.dir, siteId), { recursive: true });
    const target = join(this.dir, relative);
    writeFileSync(`${target}.tmp`, bytes);
    renameSync(`${target}.tmp`, target);
    this.db.prepare(`INSERT INTO uploads (upload_id, site_id, sop_instance_uid, study_instance_uid, modality, body_part, request_id, path, bytes, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(uploadId, siteId, checked.sopInstanceUid, checked.studyInstanceUid,
      checked.category.modality, checked.category.bodyPart, requestId, relative, bytes.length, new Date().toISOString());
    return { receipt: { uploadId, sopInstanceUid: checked.sopInstanceUid, category: checked.category }, created: true };
  }

  /** Accepted uploads of these sites and modality, every body part (the other parts are the negatives). */
  uploadsOf(siteIds: readonly string[], modality: string): StoredUpload[] {
    const rows = this.db.prepare(`SELECT * FROM uploads WHERE modality = ? AND site_id IN (SELECT value FROM json_each(?)) ORDER BY received_at, upload_id`)
      .all(modality, JSON.stringify(siteIds)) as UploadRow[];
    return rows.map((r) => ({
      uploadId: r.upload_id, siteId: r.site_id, sopInstanceUid: r.sop_instance_uid,
      category: { modality: r.modality, bodyPart: r.body_part }, path: join(this.dir, r.path),
    }));
  }
}
