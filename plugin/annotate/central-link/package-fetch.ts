/**
 * Downloads one catalogue entry's PackageArchive into a staging folder and
 * checks it against the verified catalogue before the registry sees it: safe
 * relative paths, each file's sha256, the manifest and model hashes the
 * catalogue lists, and that the package's signature names the author key the
 * catalogue lists. The registry then verifies the signature itself and
 * commissions the package.
 */
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { centralPaths, type CatalogueEntry, type PackageArchive } from '../../core/central-api';
import { keyId, MANIFEST_FILE, MODEL_FILE, sha256Hex, SIGNATURE_FILE } from '../models/package-signature';
import { centralReason, isTransientStatus, type CentralHttp } from './central-http';
import { CentralLinkError } from './central-link-error';

function refuse(entry: CatalogueEntry, message: string): CentralLinkError {
  return new CentralLinkError('AIB_CENTRAL_PACKAGE_INVALID', `package ${entry.id} ${entry.version} refused: ${message}`, { modelId: entry.id, version: entry.version });
}

function isSafePath(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.includes('\\') && !path.includes('\0') &&
    path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function parseArchive(entry: CatalogueEntry, body: Buffer): PackageArchive {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw refuse(entry, 'the archive is not JSON');
  }
  const files = typeof value === 'object' && value !== null ? (value as { files?: unknown }).files : undefined;
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'object' && f !== null &&
    typeof (f as Record<string, unknown>)['path'] === 'string' && typeof (f as Record<string, unknown>)['sha256'] === 'string' &&
    typeof (f as Record<string, unknown>)['base64'] === 'string'))
    throw refuse(entry, 'the archive is not a list of files (path, sha256, base64)');
  return value as PackageArchive;
}

export async function fetchPackage(http: CentralHttp, entry: CatalogueEntry, stagingDir: string): Promise<{ authorKeyPem: string; authorKeyId: string }> {
  const path = centralPaths.modelPackage(entry.id, entry.version);
  const response = await http.request('GET', path);
  if (response.status !== 200) {
    throw new CentralLinkError(isTransientStatus(response.status) ? 'AIB_CENTRAL_UNREACHABLE' : 'AIB_CENTRAL_REFUSED',
      `package ${entry.id} ${entry.version}: ${centralReason(response)}`, { modelId: entry.id, version: entry.version, status: response.status },
      isTransientStatus(response.status));
  }
  const archive = parseArchive(entry, response.body);
  const seen = new Set<string>();
  for (const file of archive.files) {
    if (!isSafePath(file.path)) throw refuse(entry, `file path ${JSON.stringify(file.path.slice(0, 80))} is not a plain relative path`);
    if (seen.has(file.path)) throw refuse(entry, `${file.path} is listed twice`);
    seen.add(file.path);
    const bytes = Buffer.from(file.base64, 'base64');
    if (sha256Hex(bytes) !== file.sha256.toLowerCase()) throw refuse(entry, `${file.path} does not match its sha256`);
    const target = join(stagingDir, ...file.path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bytes, { mode: 0o600 });
  }
  for (const name of [MANIFEST_FILE, MODEL_FILE, SIGNATURE_FILE]) if (!seen.has(name)) throw refuse(entry, `${name} is missing (an unsigned or incomplete package)`);
  if (sha256Hex(readFileSync(join(stagingDir, MANIFEST_FILE))) !== entry.manifestSha256) throw refuse(entry, 'manifest.json is not the one the catalogue lists');
  if (sha256Hex(readFileSync(join(stagingDir, MODEL_FILE))) !== entry.modelSha256) throw refuse(entry, 'model.onnx is not the one the catalogue lists');
  let authorKeyId: string;
  try {
    authorKeyId = keyId(createPublicKey(entry.author.publicKeyPem));
  } catch {
    throw refuse(entry, 'the catalogue lists an author key that is not a public key');
  }
  if (authorKeyId !== entry.author.keyId) throw refuse(entry, `the catalogue's author key is ${authorKeyId}, not ${entry.author.keyId}`);
  let signedBy: unknown;
  try {
    signedBy = (JSON.parse(readFileSync(join(stagingDir, SIGNATURE_FILE), 'utf8')) as { keyId?: unknown }).keyId;
  } catch {
    signedBy = undefined;
  }
  if (signedBy !== authorKeyId) throw refuse(entry, `signed by ${typeof signedBy === 'string' ? signedBy : 'no key'}, the catalogue's author key is ${authorKeyId}`);
  return { authorKeyPem: entry.author.publicKeyPem, authorKeyId };
}
