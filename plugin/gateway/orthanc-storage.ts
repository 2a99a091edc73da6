import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Orthanc's storage folder, when an instance's stored file can be handed to
 * the sealed de-id worker as a hard link in phi/spool instead of a copy the
 * plugin writes there (issue 14): Orthanc's own file storage, files
 * uncompressed. Each copy cost Orthanc's process a read and a write of the
 * whole instance during its store burst, and the disk a second write-back.
 * A link keeps the worker's seal as it was (it reads phi/spool, never
 * Orthanc's archive). Undefined when Orthanc compresses its files or a storage
 * plugin keeps them elsewhere (its configuration section enables storage):
 * the instance is copied as before. Each file is still checked against
 * Orthanc's attachment record before it is linked (storedFilePath).
 */
export function linkableOrthancStorage(orthancConfiguration: unknown, cwd: string = process.cwd()): string | undefined {
  const top = typeof orthancConfiguration === 'object' && orthancConfiguration !== null ? orthancConfiguration as Record<string, unknown> : {};
  if (top['StorageCompression'] === true) return undefined;
  if (STORAGE_PLUGIN_SECTIONS.some((section) => storageEnabled(top[section]))) return undefined;
  const directory = resolve(cwd, typeof top['StorageDirectory'] === 'string' ? top['StorageDirectory'] : 'OrthancStorage');
  try {
    return statSync(directory).isDirectory() ? directory : undefined;
  } catch {
    return undefined;
  }
}

/** Configuration sections of Orthanc's storage plugins (PostgreSQL, MySQL, ODBC, object stores). */
const STORAGE_PLUGIN_SECTIONS = ['PostgreSQL', 'MySQL', 'Odbc', 'AwsS3Storage', 'GoogleCloudStorage', 'AzureBlobStorage'];

function storageEnabled(section: unknown): boolean {
  if (typeof section !== 'object' || section === null) return false;
  const s = section as Record<string, unknown>;
  // The database plugins store files only with EnableStorage; the object-store plugins exist only to store files.
  return 'EnableStorage' in s ? s['EnableStorage'] === true : !('EnableIndex' in s);
}

/** What Orthanc records of an instance's DICOM file (GET /instances/{id}/attachments/dicom/info). */
export interface AttachmentInfo {
  readonly uuid: string;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
}

/**
 * Where Orthanc's file storage keeps the attachment (<storage>/<2>/<2>/<uuid>,
 * its FilesystemStorage layout), when the file there is the whole,
 * uncompressed instance; undefined otherwise (the caller spools the instance).
 */
export function storedFilePath(storage: string, info: AttachmentInfo): string | undefined {
  if (!/^[0-9a-f-]{36}$/.test(info.uuid) || info.compressedSize !== info.uncompressedSize) return undefined;
  const path = join(storage, info.uuid.slice(0, 2), info.uuid.slice(2, 4), info.uuid);
  try {
    const stat = statSync(path);
    return stat.isFile() && stat.size === info.uncompressedSize ? path : undefined;
  } catch {
    return undefined;
  }
}
