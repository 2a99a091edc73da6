import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { AnnotationResult, Finding } from '../../plugin/core/findings';
import { ModelError } from '../../plugin/core/model-package/model-error';
import { loadManifest } from '../../plugin/annotate/models/load-manifest';
import type { LoadedModel } from '../../plugin/inference/model-session';
import { runInference } from '../../plugin/inference/run-inference';
import { decodeImage, type DecodedImage } from '../../plugin/pixels';
import { evaluateModel } from '../../tools/build-models/evaluate-model';
import { ctChestLungFields } from '../../tools/build-models/ct-chest-lung-fields';
import { ctHeadBrain } from '../../tools/build-models/ct-head-brain';
import { SHARED_DATA, sharedFile } from '../harness/bridge-orthanc';
import { BUILT_PACKAGES } from '../annotate/package-fixtures';

function loadBuilt(id: string): LoadedModel {
  const dir = join(BUILT_PACKAGES, id);
  return { manifest: loadManifest(join(dir, 'manifest.json')), model: readFileSync(join(dir, 'model.onnx')) };
}

function decodeAll(files: readonly string[]): DecodedImage[] {
  return files.map((f) => decodeImage(readFileSync(sharedFile(f))));
}

function measurement(f: Finding | undefined, meaning: string): number {
  const m = f?.measurements.find((x) => x.concept.meaning === meaning);
  assert.ok(m, `${f?.trackingIdentifier ?? 'finding'} has no ${meaning}`);
  return m.value;
}

function assertInside(result: AnnotationResult): void {
  for (const f of result.findings) {
    assert.equal(f.region.kind, 'polygon');
    assert.ok(f.region.points.length >= 4 && f.region.points.length <= 64, `${String(f.region.points.length)} points`);
    for (const [x, y] of f.region.points) assert.ok(x >= 0 && y >= 0 && x <= f.image.columns && y <= f.image.rows, `(${String(x)}, ${String(y)}) outside the image`);
    assert.ok(result.series.images.some((i) => i.sopInstanceUid === f.image.sopInstanceUid));
  }
}

const CHEST = Array.from({ length: 30 }, (_, i) => `tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-${String(i + 1).padStart(2, '0')}.dcm`);
const HEAD = Array.from({ length: 28 }, (_, i) => `dcm_qa_ct/GE_head/${String(i + 1).padStart(2, '0')}.dcm`);

describe('ct-chest-lung-fields on real CT', () => {
  const model = loadBuilt('ct-chest-lung-fields');

  it('outlines both lung fields on a mid-chest slice with plausible measurements', async () => {
    const result = await runInference(model, decodeAll([CHEST[14] ?? '']));
    const right = result.findings.find((f) => f.trackingIdentifier === 'right lung field');
    const left = result.findings.find((f) => f.trackingIdentifier === 'left lung field');
    // By looking at slice 1-15 (512 x 512, 0.65 mm pixels): each lung is 60-120 cm2 and about -850 HU.
    assert.ok(measurement(right, 'Area') > 5000 && measurement(right, 'Area') < 12000);
    assert.ok(measurement(left, 'Area') > 5000 && measurement(left, 'Area') < 12000);
    assert.ok(measurement(right, 'Mean') > -920 && measurement(right, 'Mean') < -650);
    assert.ok(measurement(left, 'Long Axis') > 100 && measurement(left, 'Long Axis') < 250);
    assert.equal(right?.findingSite?.value, '3341006');
    // Image left is patient right on this axial series: the right lung's outline lies left of the left lung's.
    const meanX = (f: Finding | undefined): number => (f?.region.kind === 'polygon' ? f.region.points.reduce((s, p) => s + p[0], 0) / f.region.points.length : NaN);
    assert.ok(meanX(right) < 256 && meanX(left) > 256);
    assert.equal(right.measurements.find((m) => m.concept.meaning === 'Volume'), undefined, 'one slice has no volume');
    assertInside(result);
  });

  it('annotates the whole series once: findings on the largest slice, volumes over 30 slices', async () => {
    const result = await runInference(model, decodeAll(CHEST));
    assert.equal(result.series.images.length, 30);
    assert.equal(result.model.id, 'ct-chest-lung-fields');
    assert.equal(result.findings.length, 2);
    const total = result.findings.reduce((s, f) => s + measurement(f, 'Volume'), 0);
    // Adult lungs at CT inspiration hold roughly 2-7 L of aerated lung; this patient has a tumour.
    assert.ok(total > 2000 && total < 7000, `${String(total)} mL`);
    assert.match(result.summary, /Right lung: \d+(\.\d)? mm2/);
    assertInside(result);
  });

  it('reproduces the held-out figures stated in its manifest', async () => {
    const evaluation = await evaluateModel(ctChestLungFields, model, SHARED_DATA);
    const stated = model.manifest.performance.metrics.find((m) => m.name.startsWith('mean Dice'));
    assert.equal(evaluation.metrics.meanDice, stated?.value);
    assert.ok(model.manifest.performance.statement.includes(`mean Dice ${String(evaluation.metrics.meanDice)}`));
  });
});

describe('ct-head-brain on real CT', () => {
  const model = loadBuilt('ct-head-brain');

  it('outlines intracranial soft tissue on the series with plausible measurements', async () => {
    const result = await runInference(model, decodeAll(HEAD));
    assert.equal(result.findings.length, 1);
    const f = result.findings[0];
    // Brain parenchyma is 20-45 HU; an axial section through the lateral ventricles is 100-200 cm2.
    assert.ok(measurement(f, 'Mean') > 15 && measurement(f, 'Mean') < 45);
    assert.ok(measurement(f, 'Area') > 10000 && measurement(f, 'Area') < 20000);
    assert.ok(measurement(f, 'Volume') > 900 && measurement(f, 'Volume') < 1800);
    assert.equal(f?.measurements.find((m) => m.concept.meaning === 'Mean')?.unit.value, "[hnsf'U]");
    assertInside(result);
  });

  it('finds nothing on a slice below the skull ring and says so', async () => {
    const result = await runInference(model, decodeAll([HEAD[0] ?? '']));
    assert.deepEqual(result.findings, []);
    assert.equal(result.summary, model.manifest.report.noFinding);
  });

  it('reproduces the held-out figures stated in its manifest', async () => {
    const evaluation = await evaluateModel(ctHeadBrain, model, SHARED_DATA);
    const stated = model.manifest.performance.metrics.find((m) => m.name.startsWith('lowest Dice'));
    assert.equal(evaluation.metrics.minDice, stated?.value);
  });

  it('refuses colour images with a coded error', async () => {
    await assert.rejects(runInference(model, decodeAll(['deid-data/humans/ctbrain1.dcm'])),
      (e: unknown) => e instanceof ModelError && e.code === 'AIB_MODEL_INFERENCE_FAILED' && e.message.includes('colour'));
  });
});
