/**
 * Downloads one catalogue entry's PackageArchive into a staging folder and
 * checks it against the verified catalogue before the registry sees it: safe
 * relative paths, each file's sha256, the manifest and model hashes the
 * catalogue lists, and that the package's signature names the author key the
 * catalogue lists. The registry then verifies the signature itself and
 * commissions the package.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { centralPaths, type CatalogueEntry } from '../../core/central-api';
import { keyId, MANIFEST_FILE, MODEL_FILE, sha256Hex, SIGNATURE_FILE, unpackArchive, writePackageFiles } from '../../core/model-package';
import { centralReason, isTransientStatus, type CentralHttp } from './central-http';
import { CentralLinkError } from './central-link-error';

function refuse(entry: CatalogueEntry, message: string): CentralLinkError {
  return new CentralLinkError('AIB_CENTRAL_PACKAGE_INVALID', `package ${entry.id} ${entry.version} refused: ${message}`, { modelId: entry.id, version: entry.version });
}

export async function fetchPackage(http: CentralHttp, entry: CatalogueEntry, stagingDir: string): Promise<{ authorKeyPem: string; authorKeyId: string }> {
  const path = centralPaths.modelPackage(entry.id, entry.version);
  const response = await http.request('GET', path);
  if (response.status !== 200) {
    throw new CentralLinkError(isTransientStatus(response.status) ? 'AIB_CENTRAL_UNREACHABLE' : 'AIB_CENTRAL_REFUSED',
      `package ${entry.id} ${entry.version}: ${centralReason(response)}`, { modelId: entry.id, version: entry.version, status: response.status },
      isTransientStatus(response.status));
  }
  let archive: unknown;
  try {
    archive = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw refuse(entry, 'the archive is not JSON');
  }
  let files: Map<string, Buffer>;
  try {
    // Safe relative paths, no duplicates, each file's sha256.
    files = unpackArchive(archive, `${entry.id} ${entry.version}`);
  } catch (error) {
    throw refuse(entry, error instanceof Error ? error.message : String(error));
  }
  writePackageFiles(stagingDir, files);
  const seen = new Set(files.keys());
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
