/**
 * The model registry: publish refuses a package whose author signature does
 * not verify against a trusted key, whose key is not bound to the package's
 * model id, or that carries files the signature does not cover; versions are
 * immutable; the catalogue a site receives lists only the models it is
 * entitled to, names the site, its issue and expiry instants, and is signed
 * with the registry key.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Catalogue, CatalogueEntry, PublishReceipt, SignedCatalogue } from '../plugin/core/central-api';
import {
  archiveReader, keyId, MANIFEST_FILE, MODEL_FILE, ModelError, sha256Hex, SIGNATURE_FILE, signCatalogue, unpackArchive, verifyPackageFiles,
  type VerifiedPackage,
} from '../plugin/core/model-package';
import { CentralError } from './central-error';
import type { CentralStore } from './central-store';

interface ModelRow {
  id: string; version: string; name: string; unit: 'instance' | 'series'; modalities_json: string; body_parts_json: string;
  manifest_sha256: string; model_sha256: string; content_sha256: string; author_key_id: string; author_pem: string;
  published_at: string; training_job_id: string | null;
}

export interface CachedCatalogue {
  readonly serial: number;
  readonly etag: string;
  readonly body: string;
  /** When it was signed (ms): re-signed once it is older than half its validity. */
  readonly issuedAtMs: number;
}

/** An author key the registry accepts, and the only model ids it may sign. */
export interface TrustedAuthorKey {
  readonly publicKeyPem: string;
  readonly modelIds: readonly string[];
}

/** How long a signed catalogue stays valid at a site (default one day). */
export const DEFAULT_CATALOGUE_VALIDITY_SECONDS = 86_400;

function refusal(e: unknown): CentralError {
  if (!(e instanceof ModelError)) throw e;
  switch (e.code) {
    case 'AIB_MODEL_UNTRUSTED_KEY': return new CentralError('CENTRAL_UNTRUSTED_KEY', 422, e.message);
    case 'AIB_MODEL_SIGNATURE_INVALID': return new CentralError('CENTRAL_SIGNATURE_INVALID', 422, e.message);
    default: return new CentralError('CENTRAL_PACKAGE_INVALID', 422, e.message);
  }
}

/** sha256 over the sorted (path, sha256) list: equal for the same files, whatever the archive's order. */
function contentHash(files: ReadonlyMap<string, Buffer>): string {
  const lines = [...files.entries()].map(([path, bytes]) => `${path} ${sha256Hex(bytes)}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

export class ModelRegistry {
  readonly #cache = new Map<string, CachedCatalogue>();

  /**
   * `trustedKeys`: the author keys of --trust, each bound to model ids;
   * `trainerPublicKeyPem` signs only what a training job publishes, for that
   * job's model id, never a package posted to /admin/models.
   */
  constructor(readonly store: CentralStore, readonly trustedKeys: readonly TrustedAuthorKey[], readonly trainerPublicKeyPem: string,
    readonly catalogueValiditySeconds: number = DEFAULT_CATALOGUE_VALIDITY_SECONDS) {}

  serial(): number {
    return Number((this.store.db.prepare("SELECT value FROM meta WHERE key = 'serial'").get() as { value: string }).value);
  }

  /** A site's catalogue changed without a publish (its entitlement): every site sees a higher serial. */
  bumpSerial(): void {
    this.store.db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'").run();
    this.#cache.clear();
  }

  /** Verifies and stores a package archive; `training` marks a version a training job produced (signed by the trainer key). */
  publish(archive: unknown, training: { readonly jobId: string; readonly modelId: string } | null = null): { receipt: PublishReceipt; created: boolean } {
    const trustedKeys: readonly TrustedAuthorKey[] = training === null
      ? this.trustedKeys : [{ publicKeyPem: this.trainerPublicKeyPem, modelIds: [training.modelId] }];
    let files: Map<string, Buffer>;
    try {
      files = unpackArchive(archive, 'uploaded package');
    } catch (e) {
      throw new CentralError('CENTRAL_PACKAGE_INVALID', 400, refusal(e).message);
    }
    if (!files.has(SIGNATURE_FILE)) throw new CentralError('CENTRAL_PACKAGE_UNSIGNED', 422, `the package has no ${SIGNATURE_FILE}; sign it with: orthanc-ai-bridge model sign --key KEY DIR`);
    let verified: VerifiedPackage;
    try {
      verified = verifyPackageFiles('uploaded package', archiveReader(files, 'uploaded package'), trustedKeys.map((k) => k.publicKeyPem));
    } catch (e) {
      throw refusal(e);
    }
    const { manifest } = verified;
    const signer = trustedKeys.find((k) => keyId(createPublicKey(k.publicKeyPem)) === verified.keyId);
    if (signer === undefined || !signer.modelIds.includes(manifest.id))
      throw new CentralError('CENTRAL_KEY_NOT_BOUND', 422, `author key ${verified.keyId} may sign ${signer?.modelIds.join(', ') ?? 'nothing'}, not ${manifest.id}`);
    const covered = new Set([MANIFEST_FILE, MODEL_FILE, SIGNATURE_FILE, ...manifest.commissioning.cases.map((c) => c.input)]);
    const extra = [...files.keys()].filter((p) => !covered.has(p));
    if (extra.length > 0) throw new CentralError('CENTRAL_PACKAGE_INVALID', 422, `files not covered by the signature: ${extra.join(', ')}`);
    const content = contentHash(files);
    const db = this.store.db;
    const existing = db.prepare('SELECT content_sha256 FROM models WHERE id = ? AND version = ?').get(manifest.id, manifest.version) as { content_sha256: string } | undefined;
    if (existing !== undefined) {
      if (existing.content_sha256 !== content)
        throw new CentralError('CENTRAL_VERSION_EXISTS', 409, `${manifest.id} ${manifest.version} is already published with other bytes; versions are immutable, publish a new version`);
      return { receipt: { id: manifest.id, version: manifest.version, serial: this.serial() }, created: false };
    }
    this.#writeArchive(manifest.id, manifest.version, files);
    const serial = db.transaction(() => {
      db.prepare(`INSERT INTO models (id, version, name, unit, modalities_json, body_parts_json, manifest_sha256, model_sha256, content_sha256,
        author_key_id, author_pem, published_at, training_job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        manifest.id, manifest.version, manifest.name, manifest.category.seriesLevel ? 'series' : 'instance',
        JSON.stringify(manifest.category.modalities), JSON.stringify(manifest.category.bodyParts),
        sha256Hex(archiveReader(files, '')(MANIFEST_FILE)), sha256Hex(verified.model), content,
        verified.keyId, verified.publicKeyPem, new Date().toISOString(), training?.jobId ?? null);
      db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'").run();
      return this.serial();
    })();
    this.#cache.clear();
    return { receipt: { id: manifest.id, version: manifest.version, serial }, created: true };
  }

  #archivePath(id: string, version: string): string {
    return join(this.store.packagesDir, id, `${version}.json`);
  }

  #writeArchive(id: string, version: string, files: ReadonlyMap<string, Buffer>): void {
    const entries = [...files.entries()].sort(([a], [b]) => a.localeCompare(b))
      .map(([path, bytes]) => ({ path, sha256: sha256Hex(bytes), base64: bytes.toString('base64') }));
    const target = this.#archivePath(id, version);
    mkdirSync(join(this.store.packagesDir, id), { recursive: true });
    // Written aside and renamed: a download never sees half an archive.
    writeFileSync(`${target}.tmp`, JSON.stringify({ files: entries }));
    renameSync(`${target}.tmp`, target);
  }

  #entries(models: readonly string[] | null): CatalogueEntry[] {
    const rows = this.store.db.prepare('SELECT * FROM models ORDER BY id, published_at, version').all() as ModelRow[];
    return rows.filter((r) => models === null || models.includes(r.id)).map((r) => ({
      id: r.id, version: r.version, name: r.name, unit: r.unit,
      modalities: JSON.parse(r.modalities_json) as string[], bodyParts: JSON.parse(r.body_parts_json) as string[],
      manifestSha256: r.manifest_sha256, modelSha256: r.model_sha256,
      author: { keyId: r.author_key_id, publicKeyPem: r.author_pem },
      publishedAt: r.published_at,
      origin: r.training_job_id === null ? { kind: 'published' as const } : { kind: 'trained' as const, trainingJobId: r.training_job_id },
    }));
  }

  /**
   * The site's signed catalogue, built once per serial (so its ETag stays put
   * between changes) and re-signed when half its validity has passed, so a
   * polling site always holds a copy far from expiry.
   */
  catalogue(siteId: string, models: readonly string[] | null): CachedCatalogue {
    const serial = this.serial();
    const now = Date.now();
    const cached = this.#cache.get(siteId);
    if (cached?.serial === serial && now - cached.issuedAtMs < (this.catalogueValiditySeconds * 1000) / 2) return cached;
    const catalogue: Catalogue = {
      format: 'orthanc-ai-bridge catalogue v1', serial, issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.catalogueValiditySeconds * 1000).toISOString(), siteId, models: this.#entries(models),
    };
    const signed: SignedCatalogue = signCatalogue(catalogue, this.store.registryPrivateKeyPem);
    const body = JSON.stringify(signed);
    const fresh = { serial, etag: `"${String(serial)}-${sha256Hex(Buffer.from(body)).slice(0, 16)}"`, body, issuedAtMs: now };
    this.#cache.set(siteId, fresh);
    return fresh;
  }

  /** The stored archive (JSON text), for an entitled site or the admin. */
  packageArchive(id: string, version: string, models: readonly string[] | null): Buffer {
    if (models !== null && !models.includes(id)) throw new CentralError('CENTRAL_NOT_ENTITLED', 403, `this site is not entitled to model ${id}`);
    const row = this.store.db.prepare('SELECT 1 FROM models WHERE id = ? AND version = ?').get(id, version);
    if (row === undefined) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no model ${id} version ${version}`);
    return readFileSync(this.#archivePath(id, version));
  }

  /** Existing versions of a model, oldest first (a training job picks the next one). */
  versions(id: string): string[] {
    return (this.store.db.prepare('SELECT version FROM models WHERE id = ? ORDER BY published_at').all(id) as { version: string }[]).map((r) => r.version);
  }
}
