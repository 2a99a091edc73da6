/**
 * A model package folder as one JSON value (central-api PackageArchive), and
 * back. Both directions refuse paths that could leave the folder, so an
 * archive from the network can be written without a second check.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { PackageArchive, PackageFile } from '../central-api';
import { ModelError } from './model-error';
import { sha256Hex } from './package-signature';

const SAFE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** true when `path` is relative, '/'-separated, and has no '.' or '..' segment. */
export function isSafePackagePath(path: string): boolean {
  return SAFE_PATH.test(path) && path.split('/').every((segment) => segment !== '.' && segment !== '..');
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix)).sort().flatMap((name) => {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    return statSync(join(dir, rel)).isDirectory() ? listFiles(dir, rel) : [rel];
  });
}

/** Every file under `dir` (sorted, so the same folder gives the same archive). */
export function packFolder(dir: string): PackageArchive {
  return {
    files: listFiles(dir).map((path) => {
      if (!isSafePackagePath(path)) throw new ModelError('AIB_MODEL_FILE_MISSING', `${join(dir, path)}: file name not allowed in a package`, { package: dir, file: path });
      const bytes = readFileSync(join(dir, path));
      return { path, sha256: sha256Hex(bytes), base64: bytes.toString('base64') };
    }),
  };
}

/**
 * The files of an archive by path, each checked against its sha256. Throws
 * AIB_MODEL_FILE_MISSING naming the first bad entry (unsafe path, duplicate,
 * or bytes that do not match the sha256 the archive lists).
 */
export function unpackArchive(archive: unknown, label: string): Map<string, Buffer> {
  const files = (archive as Partial<PackageArchive> | null)?.files;
  if (!Array.isArray(files)) throw new ModelError('AIB_MODEL_FILE_MISSING', `${label}: not a package archive (no "files" list)`, { package: label });
  const out = new Map<string, Buffer>();
  for (const entry of files as readonly Partial<PackageFile>[]) {
    const { path, base64, sha256 } = entry;
    if (typeof path !== 'string' || typeof base64 !== 'string' || typeof sha256 !== 'string')
      throw new ModelError('AIB_MODEL_FILE_MISSING', `${label}: archive entry without path, sha256 and base64`, { package: label });
    if (!isSafePackagePath(path)) throw new ModelError('AIB_MODEL_FILE_MISSING', `${label}: archive path "${path}" is not a relative package path`, { package: label, file: path });
    if (out.has(path)) throw new ModelError('AIB_MODEL_FILE_MISSING', `${label}: archive lists ${path} twice`, { package: label, file: path });
    const bytes = Buffer.from(base64, 'base64');
    if (sha256Hex(bytes) !== sha256) throw new ModelError('AIB_MODEL_FILE_MISSING', `${label}: ${path} does not match its sha256 in the archive`, { package: label, file: path });
    out.set(path, bytes);
  }
  return out;
}

/** A reader for verifyPackageFiles over unpacked archive files. */
export function archiveReader(files: ReadonlyMap<string, Buffer>, label: string): (name: string) => Buffer {
  return (name) => {
    const bytes = files.get(name);
    if (bytes === undefined) throw new ModelError('AIB_MODEL_FILE_MISSING', `${label}: ${name} is missing from the package`, { package: label, file: name });
    return bytes;
  };
}

/** Writes unpacked files under `dir` (paths were checked by unpackArchive). */
export function writePackageFiles(dir: string, files: ReadonlyMap<string, Buffer>): void {
  for (const [path, bytes] of files) {
    const target = join(dir, ...path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bytes);
  }
}
