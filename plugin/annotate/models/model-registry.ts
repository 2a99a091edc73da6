/**
 * The installed models of a site, in <DataDirectory>/models/:
 *
 *   keys/                      site author key, trusted keys (site-keys.ts)
 *   <id>/<version>/            verified, commissioned copies (never modified)
 *   <id>/active.json           { version, history }: which version serves, and the ones before it
 *   .staging/                  packages being verified and commissioned
 *
 * install() copies the package into .staging, verifies the copy (so what is
 * checked is what is kept), commissions it, then renames it into place and
 * activates it; a package that fails leaves nothing behind and the active
 * version keeps serving. active.json is replaced by rename, so a reader sees
 * the old or the new file, never half of one.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { LoadedModel } from '../../inference/model-session';
import { commissioningFailures, runCommissioning, type CommissioningReport } from '../../inference/commissioning';
import { ModelError } from './model-error';
import type { ModelManifest } from './model-manifest';
import { signPackage, verifyPackage } from './package-signature';
import { addTrustedKey, siteAuthorKey, trustedKeys } from './site-keys';

const ACTIVE = 'active.json';
const STAGING = '.staging';
const COMMISSIONING_REPORT = 'commissioning-report.json';
const PROVENANCE = 'provenance.json';

export type PackageSource = 'bundled' | 'central' | 'manual';

export interface InstallOptions {
  /** Where the package came from; recorded beside the installed copy (GET /ai-bridge/models). */
  readonly source?: PackageSource;
  /**
   * A key trusted for this package only until it passes: the central link
   * passes the author key the verified catalogue names. It is kept among the
   * trusted keys once the package is installed, because every later load
   * verifies the installed copy again.
   */
  readonly authorKey?: { readonly name: string; readonly publicKeyPem: string };
}

/** provenance.json of an installed version. */
export interface Provenance {
  readonly source: PackageSource;
  readonly installedAt: string;
  readonly keyId: string;
}

interface ActiveFile {
  readonly version: string;
  /** Earlier active versions, most recent last: rollback pops from here. */
  readonly history: readonly string[];
}

export interface InstalledModel extends LoadedModel {
  readonly dir: string;
}

export interface ModelListing {
  readonly id: string;
  readonly versions: readonly string[];
  readonly active: string | undefined;
}

export class ModelRegistry {
  readonly #loaded = new Map<string, InstalledModel>();

  constructor(readonly modelsDir: string) {
    mkdirSync(modelsDir, { recursive: true });
  }

  /**
   * Verifies (signature with a trusted key, manifest schema, commissioning
   * input hashes), commissions and activates a package. Refuses with
   * ModelError; the previously active version stays active.
   */
  async install(packageDir: string, options: InstallOptions = {}): Promise<{ manifest: ModelManifest; commissioning: CommissioningReport }> {
    const stagingRoot = join(this.modelsDir, STAGING);
    mkdirSync(stagingRoot, { recursive: true });
    const staging = mkdtempSync(join(stagingRoot, 'pkg-'));
    try {
      cpSync(packageDir, staging, { recursive: true });
      const keys = trustedKeys(this.modelsDir);
      const verified = verifyPackage(staging, options.authorKey === undefined ? keys : [...keys, options.authorKey.publicKeyPem]);
      const { manifest } = verified;
      const target = join(this.modelsDir, manifest.id, manifest.version);
      if (existsSync(target))
        throw new ModelError('AIB_MODEL_ALREADY_INSTALLED', `model ${manifest.id} ${manifest.version} is already installed; a changed package needs a new version`, { modelId: manifest.id, version: manifest.version });
      const report = await runCommissioning(staging, { manifest, model: verified.model });
      if (!report.passed)
        throw new ModelError('AIB_MODEL_COMMISSIONING_FAILED',
          `model ${manifest.id} ${manifest.version} failed its commissioning test (${String(Math.round(report.fraction * 100))}% in range, pass mark ${String(Math.round(report.passMark * 100))}%): ${commissioningFailures(report)}`,
          { modelId: manifest.id, version: manifest.version });
      writeFileSync(join(staging, COMMISSIONING_REPORT), `${JSON.stringify(report, null, 2)}\n`);
      const provenance: Provenance = { source: options.source ?? 'manual', installedAt: new Date().toISOString(), keyId: verified.keyId };
      writeFileSync(join(staging, PROVENANCE), `${JSON.stringify(provenance, null, 2)}\n`);
      // Trusted before the version becomes visible: other annotator processes verify it again when they load it.
      if (options.authorKey !== undefined) addTrustedKey(this.modelsDir, options.authorKey.name, options.authorKey.publicKeyPem);
      mkdirSync(join(this.modelsDir, manifest.id), { recursive: true });
      renameSync(staging, target);
      this.activate(manifest.id, manifest.version);
      return { manifest, commissioning: report };
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /**
   * Installs a package built from this repository (model-packages/): the site
   * signs a copy with its own author key (created on first use), then installs
   * it like any other package. docs/models.md "Trust" says why.
   */
  async installBuilt(packageDir: string): Promise<{ manifest: ModelManifest; commissioning: CommissioningReport }> {
    const { privateKeyPem } = siteAuthorKey(this.modelsDir);
    const stagingRoot = join(this.modelsDir, STAGING);
    mkdirSync(stagingRoot, { recursive: true });
    const signed = mkdtempSync(join(stagingRoot, 'built-'));
    try {
      cpSync(packageDir, signed, { recursive: true });
      signPackage(signed, privateKeyPem);
      return await this.install(signed, { source: 'bundled' });
    } finally {
      rmSync(signed, { recursive: true, force: true });
    }
  }

  #readActive(id: string): ActiveFile | undefined {
    const path = join(this.modelsDir, id, ACTIVE);
    if (!existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as ActiveFile;
  }

  #writeActive(id: string, active: ActiveFile): void {
    const path = join(this.modelsDir, id, ACTIVE);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(active, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }

  #versions(id: string): string[] {
    const dir = join(this.modelsDir, id);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  /** Makes an installed version the one that serves; the current one goes on the rollback history. */
  activate(id: string, version: string): void {
    if (!this.#versions(id).includes(version))
      throw new ModelError('AIB_MODEL_NOT_INSTALLED', `model ${id} ${version} is not installed`, { modelId: id, version });
    const current = this.#readActive(id);
    if (current?.version === version) return;
    const history = current ? [...current.history.filter((v) => v !== current.version), current.version] : [];
    this.#writeActive(id, { version, history: history.filter((v) => v !== version) });
  }

  /** Back to the version that served before the current one. */
  rollback(id: string): string {
    const current = this.#readActive(id);
    const previous = current?.history.at(-1);
    if (!current || previous === undefined)
      throw new ModelError('AIB_MODEL_NO_PREVIOUS_VERSION', `model ${id} has no earlier active version to roll back to`, { modelId: id });
    this.#writeActive(id, { version: previous, history: current.history.slice(0, -1) });
    return previous;
  }

  /** The version a rollback would return to, if any. */
  rollbackTarget(id: string): string | undefined {
    return this.#readActive(id)?.history.at(-1);
  }

  /** What an installed version's folder records about it (undefined for a copy installed before provenance was kept). */
  provenance(id: string, version: string): { provenance: Provenance | undefined; commissioning: CommissioningReport | undefined } {
    const dir = join(this.modelsDir, id, version);
    const read = (name: string): unknown => (existsSync(join(dir, name)) ? JSON.parse(readFileSync(join(dir, name), 'utf8')) : undefined);
    return { provenance: read(PROVENANCE) as Provenance | undefined, commissioning: read(COMMISSIONING_REPORT) as CommissioningReport | undefined };
  }

  /** Verifies an installed version again (signature with a trusted key, manifest, inputs). */
  verifyInstalled(id: string, version: string): ReturnType<typeof verifyPackage> {
    return verifyPackage(join(this.modelsDir, id, version), trustedKeys(this.modelsDir));
  }

  list(): ModelListing[] {
    return readdirSync(this.modelsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'keys')
      .map((e) => ({ id: e.name, versions: this.#versions(e.name), active: this.#readActive(e.name)?.version }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * The active version of a model, verified again from disk (an installed copy
   * altered after install is refused) and cached per version.
   */
  load(id: string): InstalledModel {
    const active = this.#readActive(id);
    if (!active) throw new ModelError('AIB_MODEL_NOT_INSTALLED', `model ${id} has no active version`, { modelId: id });
    const key = `${id}@${active.version}`;
    const cached = this.#loaded.get(key);
    if (cached) return cached;
    const dir = join(this.modelsDir, id, active.version);
    const verified = verifyPackage(dir, trustedKeys(this.modelsDir));
    const installed: InstalledModel = { dir, manifest: verified.manifest, model: verified.model };
    this.#loaded.set(key, installed);
    return installed;
  }
}
