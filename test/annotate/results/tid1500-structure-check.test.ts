import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ImageReference } from '../../../plugin/core/findings';
import { readPart10, writePart10, type NaturalDataset } from '../../../plugin/annotate/results/part10-writer';
import { checkTid1500Structure, type StructureProblem } from '../../../plugin/annotate/results/tid1500-structure-check';
import { Tid1500MeasurementReport } from '../../../plugin/annotate/results/tid1500-measurement-report';
import { tempDir } from '../../harness/bridge-orthanc';
import { dciodvfy } from './dicom-validators';
import { lungAnnotationResult, lungCtSlices, resultIdentity, sourceStudyOf } from './lung-ct-fixture';

type Item = Record<string, unknown>;
const items = (item: Item, key: string): Item[] => (Array.isArray(item[key]) ? (item[key] as Item[]) : []);
const code = (item: Item): unknown => items(item, 'ConceptNameCodeSequence')[0]?.['CodeValue'];
const childOf = (item: Item, value: string): Item => items(item, 'ContentSequence').find((entry) => code(entry) === value) ?? assert.fail(`no ${value}`);

/** The first group's first NUM → its SCOORD → that SCOORD's IMAGE, in a dataset to be broken. */
function firstRegion(dataset: NaturalDataset): { scoord: Item; image: Item } {
  const group = items(childOf(dataset, '126010'), 'ContentSequence')[0] ?? assert.fail();
  const scoord = items(childOf(group, '42798000'), 'ContentSequence')[0] ?? assert.fail();
  const image = items(scoord, 'ContentSequence')[0] ?? assert.fail();
  return { scoord, image };
}

describe('checkTid1500Structure', function () {
  const slices = lungCtSlices(5);
  const images: ImageReference[] = slices.map((slice) => slice.image);
  const bytes = new Tid1500MeasurementReport({ result: lungAnnotationResult(slices), source: sourceStudyOf(slices[0] ?? assert.fail()), instance: resultIdentity() }).toPart10();
  let out: { path: string; remove: () => void };
  before(function () {
    out = tempDir('sr-check');
  });
  after(function () {
    out.remove();
  });

  /** A fresh copy of the good report, changed by `breakIt`, checked, and shown to still pass dciodvfy. */
  function broken(name: string, breakIt: (dataset: NaturalDataset) => void): StructureProblem[] {
    const { dataset } = readPart10(bytes);
    breakIt(dataset);
    const file = join(out.path, `${name}.dcm`);
    writeFileSync(file, writePart10(dataset));
    return checkTid1500Structure(readPart10(writePart10(dataset)).dataset, images);
  }
  function dciodvfyErrors(name: string): string[] {
    return dciodvfy(join(out.path, `${name}.dcm`)).errors;
  }

  it('finds nothing wrong with a good report', function () {
    assert.deepEqual(checkTid1500Structure(readPart10(bytes).dataset, images), []);
  });

  it('catches a report whose image is not in the series (consistent everywhere else), which dciodvfy passes', function () {
    // The series the model saw lists an instance that the stored series does not have: every
    // reference in the report agrees with every other, so only a check against the series finds it.
    const ghost = '1.2.826.0.1.3680043.2.1125.1.99';
    const result = lungAnnotationResult(slices);
    const swap = (image: ImageReference): ImageReference => (image.sopInstanceUid === slices[2]?.image.sopInstanceUid ? { ...image, sopInstanceUid: ghost } : image);
    const ghostly = new Tid1500MeasurementReport({
      result: { ...result, series: { ...result.series, images: result.series.images.map(swap) }, findings: result.findings.map((f) => ({ ...f, image: swap(f.image) })) },
      source: sourceStudyOf(slices[0] ?? assert.fail()),
      instance: resultIdentity(),
    }).toPart10();
    const file = join(out.path, 'ghost.dcm');
    writeFileSync(file, ghostly);
    const problems = checkTid1500Structure(readPart10(ghostly).dataset, images);
    // The image library entry and the NUM's SCOORD both point at it.
    assert.equal(problems.filter((p) => p.problem === `references SOP instance ${ghost}, which is not an image of the series`).length, 2, JSON.stringify(problems));
    assert.deepEqual(dciodvfy(file).errors, []);
  });

  it('catches a point outside the image, which dciodvfy passes', function () {
    const problems = broken('outside', (dataset) => {
      const { scoord } = firstRegion(dataset);
      const data = [...(scoord['GraphicData'] as number[])];
      data[2] = 600;
      scoord['GraphicData'] = data;
    });
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]?.problem ?? '', /point \(600,262\) lies outside the 512x512 image/);
    assert.deepEqual(dciodvfyErrors('outside'), []);
  });

  it('catches a frame number on a single-frame image and a wrong SOP class, as dciodvfy does', function () {
    const problems = broken('frame', (dataset) => {
      const ref = items(firstRegion(dataset).image, 'ReferencedSOPSequence')[0] ?? assert.fail();
      ref['ReferencedFrameNumber'] = 2;
      ref['ReferencedSOPClassUID'] = '1.2.840.10008.5.1.4.1.1.4';
    });
    assert.ok(problems.some((p) => /ReferencedFrameNumber 2 for single-frame/.test(p.problem)), JSON.stringify(problems));
    assert.ok(problems.some((p) => /ReferencedSOPClassUID differs/.test(p.problem)), JSON.stringify(problems));
    assert.equal(dciodvfyErrors('frame').length, 2);
  });

  it('catches a missing Tracking Unique Identifier (OHIF then skips the group), which dciodvfy passes', function () {
    const problems = broken('no-112040', (dataset) => {
      const group = items(childOf(dataset, '126010'), 'ContentSequence')[1] ?? assert.fail();
      group['ContentSequence'] = items(group, 'ContentSequence').filter((entry) => code(entry) !== '112040');
    });
    assert.deepEqual(problems.map((p) => p.path), ['ImagingMeasurements[1].Tracking Unique Identifier']);
    assert.deepEqual(dciodvfyErrors('no-112040'), []);
  });

  it('catches a SCOORD without its IMAGE (OHIF then draws nothing, silently), as dciodvfy does', function () {
    const problems = broken('no-image', (dataset) => {
      delete firstRegion(dataset).scoord['ContentSequence'];
    });
    assert.ok(problems.some((p) => /SCOORD needs exactly one SELECTED FROM IMAGE child, has 0/.test(p.problem)), JSON.stringify(problems));
    assert.ok(dciodvfyErrors('no-image').some((line) => /expected IMAGE/.test(line)));
  });

  it('catches a root concept OHIF does not take for a measurement report', function () {
    const problems = broken('root-concept', (dataset) => {
      dataset['ConceptNameCodeSequence'] = [{ CodeValue: '18748-4', CodingSchemeDesignator: 'LN', CodeMeaning: 'Diagnostic imaging report' }];
    });
    assert.deepEqual(problems.map((p) => p.path), ['root']);
  });

  it('catches a NUM whose unit is not UCUM and a relationship of the wrong type', function () {
    const problems = broken('unit', (dataset) => {
      const group = items(childOf(dataset, '126010'), 'ContentSequence')[0] ?? assert.fail();
      const num = childOf(group, '42798000');
      const measured = items(num, 'MeasuredValueSequence')[0] ?? assert.fail();
      measured['MeasurementUnitsCodeSequence'] = [{ CodeValue: 'mm2', CodingSchemeDesignator: '99LOCAL', CodeMeaning: 'mm2' }];
      childOf(group, '121071')['RelationshipType'] = 'HAS PROPERTIES';
    });
    assert.ok(problems.some((p) => p.path === 'ImagingMeasurements[0].NUM[0]' && /UCUM/.test(p.problem)), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.path === 'ImagingMeasurements[0].Finding' && /relationship must be CONTAINS/.test(p.problem)), JSON.stringify(problems));
  });
});
