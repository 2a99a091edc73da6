import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ModelError } from '../../../plugin/annotate/models/model-error';
import type { ModelManifest } from '../../../plugin/annotate/models/model-manifest';
import { ModelRegistry } from '../../../plugin/annotate/models/model-registry';
import { signPackage } from '../../../plugin/annotate/models/package-signature';
import { siteAuthorKey } from '../../../plugin/annotate/models/site-keys';
import { tempDir } from '../../harness/bridge-orthanc';
import { BUILT_PACKAGES, copyBuilt } from '../package-fixtures';
import { selectModel, type ScanCategory } from '../../../plugin/core/model-package/scan-category';

async function expectRefusal(promise: Promise<unknown>, code: string, mentions?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ModelError, String(error));
    assert.equal(error.code, code);
    if (mentions !== undefined) assert.ok(error.message.includes(mentions), error.message);
    return true;
  });
}

describe('ModelRegistry', () => {
  let tmp: { path: string; remove: () => void };
  let registry: ModelRegistry;
  /** What the gateway does with the annotator's active-models list (selectModel over each active manifest). */
  function select(scan: ScanCategory): ModelManifest | undefined {
    return selectModel(registry.list().flatMap((l) => (l.active === undefined ? [] : [registry.load(l.id).manifest])), scan);
  }

  beforeEach(() => {
    tmp = tempDir('registry');
    registry = new ModelRegistry(join(tmp.path, 'models'));
  });
  afterEach(() => { tmp.remove(); });

  /** A new version of the chest package, signed with the site key. */
  function chestVersion(version: string, edit: (m: ModelManifest) => ModelManifest = (m) => m): string {
    const dir = copyBuilt('ct-chest-lung-fields', join(tmp.path, `chest-${version}`), (m) => edit({ ...m, version }));
    signPackage(dir, siteAuthorKey(registry.modelsDir).privateKeyPem);
    return dir;
  }

  it('installs the built packages: site key created 0600 on first use, commissioning passed and kept', async () => {
    const chest = await registry.installBuilt(join(BUILT_PACKAGES, 'ct-chest-lung-fields'));
    await registry.installBuilt(join(BUILT_PACKAGES, 'ct-head-brain'));
    assert.ok(chest.commissioning.passed);
    assert.equal(chest.commissioning.fraction, 1);
    assert.equal(statSync(join(registry.modelsDir, 'keys', 'site-author.key')).mode & 0o777, 0o600);
    assert.deepEqual(registry.list(), [
      { id: 'ct-chest-lung-fields', versions: ['1.0.0'], active: '1.0.0' },
      { id: 'ct-head-brain', versions: ['1.0.0'], active: '1.0.0' },
    ]);
    assert.ok(existsSync(join(registry.modelsDir, 'ct-chest-lung-fields', '1.0.0', 'commissioning-report.json')));
    assert.ok(existsSync(join(registry.modelsDir, 'ct-chest-lung-fields', '1.0.0', 'signature.ed25519')));
  });

  it('refuses a package that fails commissioning, with the reason, and the previous version keeps serving', async () => {
    await registry.installBuilt(join(BUILT_PACKAGES, 'ct-chest-lung-fields'));
    const failing = chestVersion('1.1.0', (m) => ({
      ...m,
      commissioning: { ...m.commissioning, cases: m.commissioning.cases.map((c) => ({ ...c, expected: c.expected.map((e) => ({ ...e, min: 1e6, max: 2e6 })) })) },
    }));
    await expectRefusal(registry.install(failing), 'AIB_MODEL_COMMISSIONING_FAILED', 'right lung field area');
    assert.deepEqual(registry.list(), [{ id: 'ct-chest-lung-fields', versions: ['1.0.0'], active: '1.0.0' }]);
    assert.equal(select({ modality: 'CT', bodyPartExamined: 'CHEST' })?.version, '1.0.0');
  });

  it('refuses a tampered package and a second install of the same version', async () => {
    await registry.installBuilt(join(BUILT_PACKAGES, 'ct-chest-lung-fields'));
    const next = chestVersion('1.2.0');
    const model = readFileSync(join(next, 'model.onnx'));
    model[10] = (model[10] ?? 0) ^ 0xff;
    writeFileSync(join(next, 'model.onnx'), model);
    await expectRefusal(registry.install(next), 'AIB_MODEL_SIGNATURE_INVALID');
    await expectRefusal(registry.installBuilt(join(BUILT_PACKAGES, 'ct-chest-lung-fields')), 'AIB_MODEL_ALREADY_INSTALLED');
    assert.equal(registry.list()[0]?.active, '1.0.0');
  });

  it('activates a new version and rolls back to the previous one', async () => {
    await registry.installBuilt(join(BUILT_PACKAGES, 'ct-chest-lung-fields'));
    await registry.install(chestVersion('1.1.0'));
    assert.equal(registry.list()[0]?.active, '1.1.0');
    assert.equal(select({ modality: 'CT', bodyPartExamined: 'CHEST' })?.version, '1.1.0');
    assert.equal(registry.rollback('ct-chest-lung-fields'), '1.0.0');
    assert.equal(select({ modality: 'CT', bodyPartExamined: 'CHEST' })?.version, '1.0.0');
    assert.throws(() => registry.rollback('ct-chest-lung-fields'), (e: unknown) => e instanceof ModelError && e.code === 'AIB_MODEL_NO_PREVIOUS_VERSION');
    registry.activate('ct-chest-lung-fields', '1.1.0');
    assert.equal(registry.list()[0]?.active, '1.1.0');
    assert.throws(() => { registry.activate('ct-chest-lung-fields', '9.9.9'); }, (e: unknown) => e instanceof ModelError && e.code === 'AIB_MODEL_NOT_INSTALLED');
  });

  it('refuses to serve an installed copy altered after install', async () => {
    await registry.installBuilt(join(BUILT_PACKAGES, 'ct-head-brain'));
    const manifest = join(registry.modelsDir, 'ct-head-brain', '1.0.0', 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"passMark": 1', '"passMark": 0.1'));
    assert.throws(() => registry.load('ct-head-brain'), (e: unknown) => e instanceof ModelError && e.code === 'AIB_MODEL_SIGNATURE_INVALID');
  });

  it('refuses a site key readable by others', async () => {
    siteAuthorKey(registry.modelsDir);
    const { chmodSync } = await import('node:fs');
    chmodSync(join(registry.modelsDir, 'keys', 'site-author.key'), 0o644);
    await expectRefusal(registry.installBuilt(join(BUILT_PACKAGES, 'ct-head-brain')), 'AIB_MODEL_KEY_INSECURE');
  });

  describe('select by scan category', () => {
    beforeEach(async () => {
      await registry.installBuilt(join(BUILT_PACKAGES, 'ct-chest-lung-fields'));
      await registry.installBuilt(join(BUILT_PACKAGES, 'ct-head-brain'));
    });

    it('picks by modality and body part', () => {
      assert.equal(select({ modality: 'CT', bodyPartExamined: 'CHEST' })?.id, 'ct-chest-lung-fields');
      assert.equal(select({ modality: 'CT', bodyPartExamined: 'HEAD' })?.id, 'ct-head-brain');
    });

    it('falls back to description keywords when Body Part Examined is empty (de-identified headers)', () => {
      assert.equal(select({ modality: 'CT', bodyPartExamined: '', seriesDescription: 'ThoraxRoutine  8.0.0  B40f' })?.id, 'ct-chest-lung-fields');
      assert.equal(select({ modality: 'CT', studyDescription: 'CT BRAIN W/O' })?.id, 'ct-head-brain');
    });

    it('answers undefined when no model applies: other modality, other body part, nothing to go on', () => {
      assert.equal(select({ modality: 'MR', bodyPartExamined: 'HEAD' }), undefined);
      assert.equal(select({ modality: 'CT', bodyPartExamined: 'ABDOMEN' }), undefined);
      assert.equal(select({ modality: 'CT' }), undefined);
      assert.equal(select({ modality: 'CT', seriesDescription: 'Abdomen Pelvis' }), undefined);
    });
  });
});
