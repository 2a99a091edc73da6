import type { InstalledModelInfo, InstalledVersionInfo } from '../../core/annotate-messages';
import { AiBridgeError } from '../../core/ai-bridge-error';
import type { ModelManifest } from './model-manifest';
import type { ModelRegistry } from './model-registry';

/**
 * What is installed, read from disk (so every annotator process answers the
 * same): per model its versions, where each came from, its signature checked
 * again now, its commissioning result, which one serves and which one a
 * rollback returns to.
 */
export function describeInstalled(registry: ModelRegistry): InstalledModelInfo[] {
  return registry.list().map((listing) => describeModel(registry, listing.id));
}

export function describeModel(registry: ModelRegistry, id: string): InstalledModelInfo {
  const listing = registry.list().find((m) => m.id === id);
  if (listing === undefined) throw new AiBridgeError('AIB_MODEL_NOT_INSTALLED', `model ${id} is not installed`, { modelId: id }, false);
  let manifest: ModelManifest | undefined;
  const versions = listing.versions.map((version): InstalledVersionInfo => {
    const { provenance, commissioning } = registry.provenance(id, version);
    let keyId = provenance?.keyId ?? '';
    let verified = false;
    try {
      const checked = registry.verifyInstalled(id, version);
      keyId = checked.keyId;
      verified = true;
      if (version === listing.active || manifest === undefined) manifest = checked.manifest;
    } catch {
      // shown as not verified; load() refuses such a copy too
    }
    return {
      version, installedAt: provenance?.installedAt ?? null, source: provenance?.source ?? 'manual', signature: { keyId, verified },
      commissioning: commissioning === undefined ? null : { passed: commissioning.passed, fraction: commissioning.fraction, passMark: commissioning.passMark },
    };
  });
  return {
    id, name: manifest?.name ?? id, unit: manifest?.category.seriesLevel === true ? 'series' : 'instance',
    modalities: manifest?.category.modalities ?? [], bodyParts: manifest?.category.bodyParts ?? [],
    active: listing.active ?? null, rollbackTo: registry.rollbackTarget(id) ?? null, versions,
  };
}
