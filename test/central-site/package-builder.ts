import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { CatalogueEntry, PackageArchive } from '../../plugin/core/central-api';
import { keyId, packFolder, sha256Hex, signPackage, type KeyPairPem } from '../../plugin/core/model-package';
import { copyBuilt } from '../annotate/package-fixtures';

/** A built package as a new version, signed by `author`: its catalogue entry and archive. */
export function versionOf(id: string, version: string, dir: string, author: KeyPairPem): { entry: CatalogueEntry; archive: PackageArchive; dir: string } {
  copyBuilt(id, dir, (m) => ({ ...m, version }));
  signPackage(dir, author.privateKeyPem);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { name: string; category: { modalities: string[]; bodyParts: string[]; seriesLevel: boolean } };
  const entry: CatalogueEntry = {
    id, version, name: manifest.name, unit: manifest.category.seriesLevel ? 'series' : 'instance',
    modalities: manifest.category.modalities, bodyParts: manifest.category.bodyParts,
    manifestSha256: sha256Hex(readFileSync(join(dir, 'manifest.json'))), modelSha256: sha256Hex(readFileSync(join(dir, 'model.onnx'))),
    author: { keyId: keyId(author.publicKeyPem), publicKeyPem: author.publicKeyPem }, publishedAt: new Date().toISOString(), origin: { kind: 'published' },
  };
  return { entry, archive: packFolder(dir), dir };
}

/** The archive with one byte of model.onnx changed; `fixSha` also rewrites the file's sha256 so only later checks can notice. */
export function tamperedArchive(archive: PackageArchive, fixSha: boolean): PackageArchive {
  return {
    files: archive.files.map((f) => {
      if (f.path !== 'model.onnx') return f;
      const bytes = Buffer.from(f.base64, 'base64');
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      return { path: f.path, sha256: fixSha ? sha256Hex(bytes) : f.sha256, base64: bytes.toString('base64') };
    }),
  };
}

export function unsignedArchive(archive: PackageArchive): PackageArchive {
  return { files: archive.files.filter((f) => f.path !== 'signature.ed25519') };
}
