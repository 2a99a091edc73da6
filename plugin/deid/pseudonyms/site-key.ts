/**
 * The site secret behind every keyed pseudonym, date shift and UID (issue 4:
 * "site secret generated on first run into the PHI zone with mode 0600, never
 * logged"). 32 random bytes, stored raw.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';

import { SiteKeyError } from './site-key-error';

export const SITE_KEY_BYTES = 32;
const REDACTED = '[SiteKey: redacted]';

export class SiteKey {
  readonly #bytes: Buffer;
  /** the file it came from (a path is not a secret) */
  readonly file: string;

  private constructor(bytes: Buffer, file: string) {
    this.#bytes = bytes;
    this.file = file;
  }

  /**
   * Reads `file`, or creates it (O_EXCL, mode 0600, parent directories 0700)
   * with fresh random bytes if it does not exist. Refuses a key readable or
   * writable by group or others, a key that is not a regular file, or one of
   * the wrong size: each is a SiteKeyError naming the file.
   */
  static loadOrCreate(file: string): SiteKey {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return SiteKey.load(file);
      throw e;
    }
    // Created just now: a concurrent loader of the same path sees EEXIST and then
    // either this complete key or, while we write, a short file it refuses.
    try {
      const bytes = randomBytes(SITE_KEY_BYTES);
      writeSync(fd, bytes);
      return new SiteKey(bytes, file);
    } finally {
      closeSync(fd);
    }
  }

  /** Reads an existing key file (see loadOrCreate for what is refused). */
  static load(file: string): SiteKey {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new SiteKeyError('AIB_DEID_KEY_INVALID', `site key ${file} is not a regular file`, { file });
      if ((st.mode & 0o077) !== 0) {
        throw new SiteKeyError('AIB_DEID_KEY_INSECURE', `site key ${file} is accessible to group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`, { file });
      }
      if (st.size !== SITE_KEY_BYTES) throw new SiteKeyError('AIB_DEID_KEY_INVALID', `site key ${file} must be exactly ${SITE_KEY_BYTES} bytes`, { file });
      const bytes = Buffer.alloc(SITE_KEY_BYTES);
      if (readSync(fd, bytes, 0, SITE_KEY_BYTES, 0) !== SITE_KEY_BYTES) throw new SiteKeyError('AIB_DEID_KEY_INVALID', `site key ${file} could not be read whole`, { file });
      return new SiteKey(bytes, file);
    } finally {
      closeSync(fd);
    }
  }

  /** A key from bytes already in memory (tests, and a worker handed the key by the gateway). */
  static fromBytes(bytes: Buffer, label = '(memory)'): SiteKey {
    if (bytes.length !== SITE_KEY_BYTES) throw new SiteKeyError('AIB_DEID_KEY_INVALID', `a site key must be exactly ${SITE_KEY_BYTES} bytes`, { file: label });
    return new SiteKey(Buffer.from(bytes), label);
  }

  /** The secret itself, for HMAC. Callers must not log or serialize it. */
  bytes(): Buffer {
    return this.#bytes;
  }

  // Never logged: every stringification path says "redacted".
  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
