import { link, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import type { OrthancRest } from '../../sdk';
import type { AuditLog } from '../audit-log';
import type { DeidWorkerPool } from '../deid/deid-worker-pool';
import { GatewayError } from '../gateway-errors';
import { storedFilePath } from '../orthanc-storage';
import type { Job, OriginalRead } from '../job';
import type { PhiVault } from '../vault/phi-vault';
import { callForInstance, DELETED_BEFORE_PROCESSING } from './instance-call';
import type { JobWork, Stage, StageResult } from './stage';

/**
 * Hands the original to a sealed worker as a file in phi/spool: a hard link
 * to the file Orthanc's own storage keeps (uncompressed, checked against
 * Orthanc's attachment record: orthanc-storage.ts), or else a copy the plugin
 * writes there. The worker parses it once (the routing facts included), writes
 * the de-identified copy into deid/ with the pixel data copied file to file,
 * and returns the pseudonym mapping; the gateway alone writes the mapping
 * into the PHI vault. The gateway never holds the instance's bytes. The
 * spool file is removed whatever happens (a stop mid-way leaves it for the
 * next start's sweep, spoolSweep).
 */
export class DeidentifyStage implements Stage {
  readonly name = 'deidentify';
  readonly #orthanc: OrthancRest;
  readonly #pool: DeidWorkerPool;
  readonly #vault: PhiVault;
  readonly #audit: AuditLog;
  readonly #spool: string;
  readonly #deidDirectory: string;
  readonly #reportFor: ((instanceId: string) => Promise<{ id: number; text: string } | undefined>) | undefined;
  /** Orthanc's storage folder while its files can be linked; undefined once a link crossed file systems (EXDEV). */
  #storage: string | undefined;

  /**
   * `deidDirectory`: the de-identified store the workers write into (to remove a copy the vault refused).
   * `reportFor`: the newest report of the instance's study (the report link, issue 16), whose terms the worker adds.
   * `storage`: Orthanc's storage folder when its files may be linked into phi/spool (linkableOrthancStorage); absent: every original is copied.
   */
  constructor(orthanc: OrthancRest, pool: DeidWorkerPool, vault: PhiVault, audit: AuditLog, spoolDirectory: string, deidDirectory: string,
    reportFor?: (instanceId: string) => Promise<{ id: number; text: string } | undefined>, storage?: string) {
    this.#storage = storage;
    this.#deidDirectory = deidDirectory;
    this.#reportFor = reportFor;
    this.#orthanc = orthanc;
    this.#pool = pool;
    this.#vault = vault;
    this.#audit = audit;
    this.#spool = spoolDirectory;
  }

  async run(job: Job, work: JobWork): Promise<StageResult> {
    // Named after the job: one spool entry per instance, replaced by a retry.
    const spooled = join(this.#spool, `job-${String(job.id)}.dcm`);
    try {
      const linked = await this.#linkStoredFile(job, spooled);
      if (linked === 'deleted') return DELETED_BEFORE_PROCESSING;
      if (linked) return await this.#deidentify(job, work, spooled, 'orthanc-storage');
      const spooledNow = await callForInstance(job.instanceId, () => this.#orthanc.spoolInstance(job.instanceId, spooled));
      if (spooledNow === undefined) return DELETED_BEFORE_PROCESSING;
      return await this.#deidentify(job, work, spooled, 'spool');
    } finally {
      // unlink, not rm: rm looks the path up first (lstat), one more system call per instance for a plain file.
      await unlink(spooled).catch((error: unknown) => { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; });
    }
  }

  /**
   * A hard link in phi/spool to the file Orthanc's storage keeps (no byte
   * copied, nothing asked of Orthanc's process but the attachment record), so
   * the worker still reads nothing but phi/spool: its seal need not open
   * Orthanc's whole archive to it. false: spool a copy instead (compressed or
   * plugin storage, another file system, a file that is not the whole
   * instance).
   */
  async #linkStoredFile(job: Job, spooled: string): Promise<boolean | 'deleted'> {
    if (this.#storage === undefined) return false;
    const attachment = await callForInstance(job.instanceId, () => this.#orthanc.dicomAttachment(job.instanceId));
    if (attachment === undefined) return 'deleted';
    const stored = storedFilePath(this.#storage, attachment.value);
    if (stored === undefined) return false;
    try {
      await linkReplacing(stored, spooled);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      // Another file system: no file of it will link, so no job asks Orthanc for its attachment record again.
      if (code === 'EXDEV') this.#storage = undefined;
      // ENOENT: deleted by Orthanc since the record was read (the spool call then says so); the others: not linkable here.
      if (NOT_LINKABLE.has(code)) return false;
      throw error;
    }
  }

  /** `originalRead`: what the worker read (where the original was read is part of the job's record). */
  async #deidentify(job: Job, work: JobWork, inputPath: string, originalRead: OriginalRead): Promise<StageResult> {
    const report = await this.#reportFor?.(job.instanceId);
    const result = await this.#pool.deidentify({ instanceId: job.instanceId, inputPath, ...(report === undefined ? {} : { report }) });
    if (!result.ok) {
      throw new GatewayError('AIB_DEID_FAILED', `instance ${job.instanceId}: ${result.code}: ${result.message}`,
        { instanceId: job.instanceId, workerCode: result.code }, result.transient);
    }
    try {
      await this.#vault.record(job.instanceId, result.vault);
    } catch (error) {
      // Nothing stays in the de-identified zone without its vault entry (issue 13).
      await rm(join(this.#deidDirectory, result.outputPath), { force: true });
      throw error;
    }
    // Before the job is reported done: the boxes covered (frame, place, reason, rule; never the text).
    if (result.pixels) this.#audit.append({ event: 'pixels-cleaned', jobId: job.id, instanceId: job.instanceId, pixels: result.pixels });
    if (result.undecodableText) {
      this.#audit.append({ event: 'text-undecodable', jobId: job.id, instanceId: job.instanceId, undecodableText: result.undecodableText,
        detail: `${String(result.undecodableText.length)} text element(s) not valid in their declared character set were given their row's strictest action` });
    }
    const routing = result.routing;
    work.routing = routing;
    work.deid = { path: result.outputPath, linkToken: result.vault.linkToken, scan: result.scan };
    const hits = Object.entries(result.textHits).map(([kind, n]) => `${n} ${kind}`).join(', ');
    const boxes = (result.pixels ? `, ${String(result.pixels.boxes.length)} pixel box(es) filled` : '') +
      (result.undecodableText ? `, ${String(result.undecodableText.length)} undecodable text element(s) replaced or removed` : '') +
      (result.report ? `, report ${String(result.report.id)} applied and its de-identified copy written` : '');
    return {
      facts: {
        deidPath: result.outputPath, linkToken: result.vault.linkToken, sha256: routing.sha256, sizeBytes: routing.sizeBytes, originalRead,
        ...present({ sopInstanceUid: routing.sopInstanceUid, seriesInstanceUid: routing.seriesInstanceUid, sopClassUid: routing.sopClassUid,
          modality: routing.modality, transferSyntaxUid: routing.transferSyntaxUid }),
      },
      outcome: (hits === '' ? 'de-identified' : `de-identified (text scrubbed: ${hits})`) + boxes,
    };
  }
}

/** The attributes the instance has: an absent one ('') stays null on the job rather than ''. */
function present<K extends string>(values: Readonly<Record<K, string>>): Partial<Record<K, string>> {
  return Object.fromEntries(Object.entries<string>(values).filter(([, v]) => v !== '')) as Partial<Record<K, string>>;
}

const NOT_LINKABLE = new Set(['ENOENT', 'EXDEV', 'EPERM', 'EACCES', 'EMLINK']);

/** link(), replacing what a cut-off earlier attempt of the same job left at `to`. */
async function linkReplacing(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await unlink(to);
    await link(from, to);
  }
}
