import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { AnnotationResult } from '../../../plugin/core/findings';
import { GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, GrayscaleSoftcopyPresentationState, type PresentationStateOptions } from '../../../plugin/annotate/results/grayscale-softcopy-presentation-state';
import { InvalidResultObjectError } from '../../../plugin/annotate/results/invalid-result-object-error';
import { EXPLICIT_VR_LITTLE_ENDIAN, readPart10, type NaturalDataset } from '../../../plugin/annotate/results/part10-writer';
import { tempDir } from '../../harness/bridge-orthanc';
import { dciodvfy, dcmp2pgm, dcmpschk, parsePgm } from './dicom-validators';
import { lungAnnotationResult, lungCtSlices, resultIdentity, RIGHT_APEX_POLYGON, sourceStudyOf, type CtSlice } from './lung-ct-fixture';

/**
 * dciodvfy warnings a presentation state may carry: two come from the source
 * study (no Study ID; a Patient's Name without '^', "retired" to dciodvfy),
 * and one from the empty Laterality: Type 2C in General Series, which a
 * presentation state of a chest CT has no value for; dciodvfy cannot tell
 * whether the body part is paired and asks for a value or absence.
 */
const EXPECTED_WARNINGS = [/Study ID$/, /Patient's Name .* Retired Person Name form$/, /attribute <Laterality>$/];

type Items = NaturalDataset[];
const items = (item: NaturalDataset, key: string): Items => (Array.isArray(item[key]) ? (item[key] as Items) : []);

/** Pixels (column,row) that a closed polygon's edges pass through, sampled along each edge. */
function edgePixels(points: readonly (readonly [number, number])[]): [number, number][] {
  const pixels: [number, number][] = [];
  points.forEach((from, i) => {
    const to = points[(i + 1) % points.length] ?? from;
    for (const t of [0.25, 0.5, 0.75]) pixels.push([Math.floor(from[0] + (to[0] - from[0]) * t), Math.floor(from[1] + (to[1] - from[1]) * t)]);
  });
  return pixels;
}

describe('GrayscaleSoftcopyPresentationState', function () {
  let slices: CtSlice[];
  let options: PresentationStateOptions;
  let single: PresentationStateOptions;
  let out: { path: string; remove: () => void };

  before(function () {
    slices = lungCtSlices(5);
    const source = sourceStudyOf(slices[0] ?? assert.fail());
    options = { result: lungAnnotationResult(slices), source, instance: resultIdentity({ seriesNumber: 9951 }) };
    single = { result: lungAnnotationResult(slices, true), source, instance: resultIdentity({ seriesNumber: 9952, sopInstanceUid: '2.25.9952' }) };
    out = tempDir('gsps');
  });
  after(function () {
    out.remove();
  });

  function write(name: string, state: GrayscaleSoftcopyPresentationState): string {
    const path = join(out.path, name);
    writeFileSync(path, state.toPart10());
    return path;
  }

  for (const [name, pick] of [['a series state (three images)', (): PresentationStateOptions => options], ['a single-image state', (): PresentationStateOptions => single]] as const) {
    it(`${name}: dciodvfy finds no error and dcmpschk passes`, function () {
      const file = write('pr.dcm', new GrayscaleSoftcopyPresentationState(pick()));
      const report = dciodvfy(file);
      assert.deepEqual(report.errors, [], report.output);
      for (const warning of report.warnings) assert.ok(EXPECTED_WARNINGS.some((pattern) => pattern.test(warning)), `unexpected warning: ${warning}`);
      const check = dcmpschk(file);
      assert.ok(check.passed, check.output);
    });
  }

  it('annotates every finding on layer AI of its own image, and references every annotated image', function () {
    const { meta, dataset } = readPart10(new GrayscaleSoftcopyPresentationState(options).toPart10());
    assert.equal(meta['TransferSyntaxUID'], EXPLICIT_VR_LITTLE_ENDIAN);
    assert.equal(meta['MediaStorageSOPClassUID'], GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE);
    assert.equal(dataset['SpecificCharacterSet'], 'ISO_IR 192');
    assert.equal(dataset['Modality'], 'PR');
    assert.equal(dataset['ContentDescription'], 'ct-lung-fields 1.2.0');
    assert.equal(dataset['PresentationLUTShape'], 'IDENTITY');
    assert.deepEqual(items(dataset, 'GraphicLayerSequence').map((layer) => layer['GraphicLayer']), ['AI']);
    const [s2, s3, s4] = [slices[1], slices[2], slices[3]].map((slice) => slice?.image.sopInstanceUid);
    const series = items(dataset, 'ReferencedSeriesSequence');
    assert.equal(series.length, 1);
    assert.deepEqual(items(series[0] ?? {}, 'ReferencedImageSequence').map((ref) => ref['ReferencedSOPInstanceUID']), [s2, s3, s4]);
    const annotations = items(dataset, 'GraphicAnnotationSequence');
    assert.deepEqual(annotations.map((a) => items(a, 'ReferencedImageSequence')[0]?.['ReferencedSOPInstanceUID']), [s2, s3, s4]);
    assert.deepEqual(annotations.map((a) => items(a, 'GraphicObjectSequence')[0]?.['GraphicType']), ['POINT', 'POLYLINE', 'ELLIPSE']);
    assert.deepEqual(annotations.map((a) => items(a, 'TextObjectSequence')[0]?.['UnformattedTextValue']), ['Trachea', 'Right lung 847 mm2 (91%)', 'Left lung 762 mm2']);
    const polygon = items(annotations[1] ?? {}, 'GraphicObjectSequence')[0] ?? assert.fail();
    assert.deepEqual(polygon['GraphicData'], [...RIGHT_APEX_POLYGON, RIGHT_APEX_POLYGON[0]].flatMap((point) => [...(point ?? [])]));
    // The source's Modality LUT and first window, so the state shows the image as the source does.
    assert.equal(Number(dataset['RescaleIntercept']), -1024);
    const voi = items(dataset, 'SoftcopyVOILUTSequence');
    assert.equal(voi.length, 1);
    assert.equal(Number(voi[0]?.['WindowCenter']), 40);
    assert.equal(Number(voi[0]?.['WindowWidth']), 350);
    assert.equal(dataset['OverlayData'], undefined, 'no overlay for a state over several images');
  });

  it('gives identical bytes for identical inputs', function () {
    const a = new GrayscaleSoftcopyPresentationState(options).toPart10();
    const b = new GrayscaleSoftcopyPresentationState({ ...options, result: lungAnnotationResult(lungCtSlices(5)) }).toPart10();
    assert.ok(a.equals(b));
  });

  it('dcmp2pgm shows the image through the state as the source shows it, and gets the right annotations per image', function () {
    const file = write('series.dcm', new GrayscaleSoftcopyPresentationState(options));
    const slice3 = slices[2] ?? assert.fail();
    dcmp2pgm(slice3.path, join(out.path, 'plain.pgm'));
    dcmp2pgm(slice3.path, join(out.path, 'through-state.pgm'), file);
    const plain = parsePgm(readFileSync(join(out.path, 'plain.pgm')));
    const through = parsePgm(readFileSync(join(out.path, 'through-state.pgm')));
    assert.equal(through.width, 512);
    assert.equal(through.height, 512);
    // Same Modality LUT and window: dcmp2pgm draws neither graphic objects nor overlays into its
    // output (it hands them to the caller), so the renders agree pixel for pixel.
    assert.ok(plain.pixels.equals(through.pixels));
    const dump = (image: string): string => {
      const run = spawnSync('dcmp2pgm', ['-v', '-p', file, image, join(out.path, 'dump.pgm')], { cwd: out.path, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return `${run.stdout}${run.stderr}`;
    };
    const onSlice3 = dump(slice3.path);
    assert.match(onSlice3, /Graphic Layer #1 \[AI\]/);
    assert.match(onSlice3, /graphic 1: points=7 type=polyline filled=no units=pixel\s+I:\s+coordinates: 175\\265, 215\\262, 225\\285, 210\\310, 180\\305, 168\\285, 175\\265,/);
    assert.match(onSlice3, /text 1: "Right lung 847 mm2 \(91%\)"/);
    assert.match(onSlice3, /VOI transformation: window center=40 width=350/);
    assert.match(dump(slices[3]?.path ?? assert.fail()), /graphic 1: points=4 type=ellipse/);
    assert.match(dump(slices[4]?.path ?? assert.fail()), /Number of graphic objects: 0/);
  });

  it('a single-image state carries the outline as an overlay on layer AI, which DCMTK reads back along the polygon', function () {
    const file = write('single.dcm', new GrayscaleSoftcopyPresentationState(single));
    const slice3 = slices[2] ?? assert.fail();
    // With -v, dcmp2pgm writes each activated overlay, as DCMTK decoded it, to ovl_<n>.pgm in its working directory.
    const run = spawnSync('dcmp2pgm', ['-v', '-p', file, slice3.path, join(out.path, 'single.pgm')], { cwd: out.path, encoding: 'utf8' });
    const log = `${run.stdout}${run.stderr}`;
    assert.equal(run.status, 0, log);
    const written = /filename="(ovl_\d+\.pgm)" - written/.exec(log);
    assert.ok(written?.[1] !== undefined, log);
    assert.match(log, /Number of activated overlays: 1/);
    const overlay = parsePgm(readFileSync(join(out.path, written[1])));
    assert.equal(overlay.width, 512);
    for (const [column, row] of edgePixels(RIGHT_APEX_POLYGON)) {
      // PS3.3 C.9.2: Overlay Origin 1\1 is the top-left pixel; allow the line's one-pixel rounding.
      const near = [-1, 0, 1].some((dy) => [-1, 0, 1].some((dx) => overlay.at(column + dx, row + dy) > 0));
      assert.ok(near, `no overlay pixel at the polygon edge near (${column},${row})`);
    }
    for (const [column, row] of [[10, 10], [400, 100], [256, 450], [190, 285]] as const) {
      assert.equal(overlay.at(column, row), 0, `overlay pixel set far from the outline at (${column},${row})`);
    }
    const rendered = parsePgm(readFileSync(join(out.path, 'single.pgm')));
    dcmp2pgm(slice3.path, join(out.path, 'plain-single.pgm'));
    assert.ok(rendered.pixels.equals(parsePgm(readFileSync(join(out.path, 'plain-single.pgm'))).pixels));
  });

  describe('refuses invalid input, naming the field', function () {
    function refuses(field: string, change: (o: PresentationStateOptions) => PresentationStateOptions): void {
      assert.throws(() => new GrayscaleSoftcopyPresentationState(change(options)), (error: unknown) => {
        assert.ok(error instanceof InvalidResultObjectError, String(error));
        assert.equal(error.details.field, field);
        return true;
      });
    }
    it('a result without findings (nothing to draw)', function () {
      refuses('result.findings', (o) => ({ ...o, result: { ...o.result, findings: [] } }));
    });
    it('a content label that is not CS', function () {
      refuses('contentLabel', (o) => ({ ...o, contentLabel: 'ai findings' }));
    });
    it('annotated images with different rescales (one Modality LUT per state)', function () {
      refuses('result.series.images', (o) => {
        const result: AnnotationResult = o.result;
        const shifted = result.findings[1]?.image.sopInstanceUid;
        const images = result.series.images.map((image) => (image.sopInstanceUid === shifted ? { ...image, rescale: { intercept: 0, slope: 1, type: 'HU' } } : image));
        return { ...o, result: { ...result, series: { ...result.series, images } } };
      });
    });
    it('a region outside its image', function () {
      refuses('result.findings[0].region', (o) => ({
        ...o, result: { ...o.result, findings: o.result.findings.map((f, i) => (i === 0 ? { ...f, region: { kind: 'point', point: [-1, 5] } } : f)) },
      }));
    });
    it('and builds with a valid content label', function () {
      const state = new GrayscaleSoftcopyPresentationState({ ...options, contentLabel: 'LUNG_AI' });
      assert.equal(state.toDataset()['ContentLabel'], 'LUNG_AI');
    });
  });
});
