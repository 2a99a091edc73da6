import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { AnnotationResult, ImageReference } from '../../../plugin/core/findings';
import { trackingUniqueIdentifier } from '../../../plugin/annotate/results/derived-uids';
import { InvalidResultObjectError } from '../../../plugin/annotate/results/invalid-result-object-error';
import { EXPLICIT_VR_LITTLE_ENDIAN, readPart10, type NaturalDataset } from '../../../plugin/annotate/results/part10-writer';
import { checkTid1500Structure } from '../../../plugin/annotate/results/tid1500-structure-check';
import { COMPREHENSIVE_SR_STORAGE, Tid1500MeasurementReport, type MeasurementReportOptions } from '../../../plugin/annotate/results/tid1500-measurement-report';
import { tempDir } from '../../harness/bridge-orthanc';
import { dciodvfy } from './dicom-validators';
import { lungAnnotationResult, lungCtSlices, resultIdentity, sourceStudyOf, type CtSlice } from './lung-ct-fixture';

/**
 * dciodvfy warnings the reports may carry, each because of the source study,
 * not the builder: the TCIA study has no Study ID (Type 2, copied as empty),
 * and its Patient's Name has no '^' (dciodvfy calls a single-component PN the
 * "retired" form; the builder copies the name unchanged).
 */
const EXPECTED_WARNINGS = [/Study ID$/, /Patient's Name .* Retired Person Name form$/];

type Items = NaturalDataset[];
function items(item: NaturalDataset, key: string): Items {
  const value = item[key];
  return Array.isArray(value) ? (value as Items) : [];
}
function conceptValue(item: NaturalDataset): string | undefined {
  return items(item, 'ConceptNameCodeSequence')[0]?.['CodeValue'] as string | undefined;
}
function child(item: NaturalDataset, code: string): NaturalDataset {
  const found = items(item, 'ContentSequence').find((entry) => conceptValue(entry) === code);
  assert.ok(found, `no child ${code}`);
  return found;
}

describe('Tid1500MeasurementReport', function () {
  let slices: CtSlice[];
  let options: MeasurementReportOptions;
  let out: { path: string; remove: () => void };

  before(function () {
    slices = lungCtSlices(5);
    options = { result: lungAnnotationResult(slices), source: sourceStudyOf(slices[0] ?? assert.fail()), instance: resultIdentity() };
    out = tempDir('sr');
  });
  after(function () {
    out.remove();
  });

  function write(name: string, bytes: Buffer): string {
    const path = join(out.path, name);
    writeFileSync(path, bytes);
    return path;
  }

  it('writes a Comprehensive SR that dciodvfy passes with no errors', function () {
    const report = dciodvfy(write('sr.dcm', new Tid1500MeasurementReport(options).toPart10()));
    assert.deepEqual(report.errors, [], report.output);
    for (const warning of report.warnings) {
      assert.ok(EXPECTED_WARNINGS.some((pattern) => pattern.test(warning)), `unexpected warning: ${warning}`);
    }
  });

  it('passes the TID 1500 structure check against the series images', function () {
    const { dataset } = readPart10(new Tid1500MeasurementReport(options).toPart10());
    assert.deepEqual(checkTid1500Structure(dataset, slices.map((slice) => slice.image)), []);
  });

  it('has the file meta, character set and header of the source study', function () {
    const { meta, dataset } = readPart10(new Tid1500MeasurementReport(options).toPart10());
    assert.equal(meta['TransferSyntaxUID'], EXPLICIT_VR_LITTLE_ENDIAN);
    assert.equal(meta['MediaStorageSOPClassUID'], COMPREHENSIVE_SR_STORAGE);
    assert.equal(meta['MediaStorageSOPInstanceUID'], options.instance.sopInstanceUid);
    assert.equal(dataset['SpecificCharacterSet'], 'ISO_IR 192');
    assert.equal(dataset['StudyInstanceUID'], options.source.StudyInstanceUID);
    assert.equal(dataset['PatientID'], options.source.PatientID);
    assert.equal(dataset['SeriesInstanceUID'], options.instance.seriesInstanceUid);
    assert.equal(dataset['SeriesNumber'], options.instance.seriesNumber);
    assert.equal(dataset['Modality'], 'SR');
    const impression = child(child(dataset, 'C0034375'), '121073');
    assert.equal(typeof impression['TextValue'], 'string');
    // dcmjs 0.51 decodes text inside sequence items as Latin-1 whatever the character set, so check the bytes.
    assert.ok(new Tid1500MeasurementReport(options).toPart10().includes(Buffer.from(options.result.summary, 'utf8')), 'the impression is written in UTF-8');
    const evidence = items(items(dataset, 'CurrentRequestedProcedureEvidenceSequence')[0] ?? {}, 'ReferencedSeriesSequence')[0] ?? {};
    const finding = (i: number): string => options.result.findings[i]?.image.sopInstanceUid ?? '';
    assert.deepEqual(items(evidence, 'ReferencedSOPSequence').map((sop) => sop['ReferencedSOPInstanceUID']).sort(), [finding(0), finding(1), finding(2)].sort());
  });

  it('lays out each finding the way OHIF reads it: tracking ids, finding, site, algorithm, NUM from SCOORD from IMAGE', function () {
    const builder = new Tid1500MeasurementReport(options);
    const { dataset } = readPart10(builder.toPart10());
    const groups = items(child(dataset, '126010'), 'ContentSequence');
    assert.equal(groups.length, 3);
    const first = groups[0] ?? assert.fail();
    assert.equal(child(first, '112039')['TextValue'], 'right lung apex');
    assert.equal(child(first, '112040')['UID'], trackingUniqueIdentifier(options.instance.sopInstanceUid, 0));
    assert.equal(child(first, '112040')['UID'], builder.trackingUids[0]);
    assert.equal(items(child(first, '121071'), 'ConceptCodeSequence')[0]?.['CodeValue'], '39607008');
    assert.equal(items(child(first, '363698007'), 'ConceptCodeSequence')[0]?.['CodeValue'], '3341006');
    assert.equal(child(first, '111001')['TextValue'], 'CT lung field segmentation');
    assert.equal(child(first, '111003')['TextValue'], '1.2.0');
    const area = child(first, '42798000');
    assert.equal(area['ValueType'], 'NUM');
    const measured = items(area, 'MeasuredValueSequence')[0] ?? assert.fail();
    assert.equal(items(measured, 'MeasurementUnitsCodeSequence')[0]?.['CodeValue'], 'mm2');
    const scoord = items(area, 'ContentSequence')[0] ?? assert.fail();
    assert.equal(scoord['RelationshipType'], 'INFERRED FROM');
    assert.equal(scoord['GraphicType'], 'POLYLINE');
    const data = scoord['GraphicData'] as number[];
    assert.deepEqual(data.slice(-2), data.slice(0, 2), 'a closed polygon repeats its first point');
    const image = items(scoord, 'ContentSequence')[0] ?? assert.fail();
    assert.equal(image['RelationshipType'], 'SELECTED FROM');
    assert.equal(items(image, 'ReferencedSOPSequence')[0]?.['ReferencedSOPInstanceUID'], slices[2]?.image.sopInstanceUid);
    assert.equal(items(image, 'ReferencedSOPSequence')[0]?.['ReferencedFrameNumber'], undefined, 'no frame number for a single-frame CT');
    const ellipse = groups[1] ?? assert.fail();
    assert.equal(items(ellipse, 'ContentSequence').filter((entry) => entry['ValueType'] === 'NUM').length, 2);
    // A finding without measurements keeps its region as TID 1410's Image Region.
    const point = child(groups[2] ?? assert.fail(), '111030');
    assert.equal(point['GraphicType'], 'POINT');
  });

  it('gives identical bytes for identical inputs, and other tracking UIDs for another result UID', function () {
    const a = new Tid1500MeasurementReport(options).toPart10();
    const b = new Tid1500MeasurementReport({ ...options, result: lungAnnotationResult(lungCtSlices(5)) }).toPart10();
    assert.ok(a.equals(b));
    const other = new Tid1500MeasurementReport({ ...options, instance: resultIdentity({ sopInstanceUid: '2.25.1234' }) });
    assert.notDeepEqual(other.trackingUids, new Tid1500MeasurementReport(options).trackingUids);
    assert.equal(new Set(other.trackingUids).size, 3);
  });

  it('writes a report without findings (nothing found) that dciodvfy and the structure check pass', function () {
    const empty: AnnotationResult = { ...options.result, findings: [], summary: 'No lung field found.' };
    const bytes = new Tid1500MeasurementReport({ ...options, result: empty }).toPart10();
    assert.deepEqual(dciodvfy(write('empty.dcm', bytes)).errors, []);
    const { dataset } = readPart10(bytes);
    assert.deepEqual(checkTid1500Structure(dataset, slices.map((slice) => slice.image)), []);
    assert.equal(items(dataset, 'ContentSequence').some((entry) => conceptValue(entry) === '126010'), false);
  });

  it('names the frame of a multi-frame image, in the SCOORD and not in the evidence', function () {
    // An Enhanced CT with two frames: each frame is its own entry of the series, with its frame number.
    const enhancedCt = '1.2.840.10008.5.1.4.1.1.2.1';
    const frame = (frameNumber: number): ImageReference => ({ sopClassUid: enhancedCt, sopInstanceUid: '2.25.4242', frameNumber, rows: 512, columns: 512 });
    const base = options.result.findings[0] ?? assert.fail();
    const result: AnnotationResult = {
      ...options.result,
      series: { ...options.result.series, images: [frame(1), frame(2)] },
      findings: [{ ...base, image: frame(2) }],
    };
    const bytes = new Tid1500MeasurementReport({ ...options, result }).toPart10();
    assert.deepEqual(dciodvfy(write('multiframe.dcm', bytes)).errors, []);
    const { dataset } = readPart10(bytes);
    assert.deepEqual(checkTid1500Structure(dataset, [frame(1), frame(2)]), []);
    assert.ok(checkTid1500Structure(dataset, [frame(1)]).some((p) => /frame 2 of 2\.25\.4242 is not among the series images/.test(p.problem)));
    const group = items(child(dataset, '126010'), 'ContentSequence')[0] ?? assert.fail();
    const scoord = items(child(group, '42798000'), 'ContentSequence')[0] ?? assert.fail();
    const ref = items(items(scoord, 'ContentSequence')[0] ?? {}, 'ReferencedSOPSequence')[0] ?? assert.fail();
    assert.equal(Number(ref['ReferencedFrameNumber']), 2);
    const evidence = items(items(items(dataset, 'CurrentRequestedProcedureEvidenceSequence')[0] ?? {}, 'ReferencedSeriesSequence')[0] ?? {}, 'ReferencedSOPSequence');
    assert.deepEqual(evidence.map((sop) => [sop['ReferencedSOPInstanceUID'], sop['ReferencedFrameNumber']]), [['2.25.4242', undefined]]);
  });

  describe('refuses invalid input, naming the field', function () {
    function refuses(field: string, change: (o: MeasurementReportOptions) => MeasurementReportOptions): void {
      assert.throws(() => new Tid1500MeasurementReport(change(options)), (error: unknown) => {
        assert.ok(error instanceof InvalidResultObjectError, String(error));
        assert.equal(error.code, 'AIB_RESULT_INVALID_INPUT');
        assert.equal(error.details.field, field);
        return true;
      });
    }
    const withFinding = (o: MeasurementReportOptions, change: (f: AnnotationResult['findings'][number]) => AnnotationResult['findings'][number]): MeasurementReportOptions => ({
      ...o, result: { ...o.result, findings: o.result.findings.map((f, i) => (i === 0 ? change(f) : f)) },
    });

    it('a region outside its image', function () {
      refuses('result.findings[0].region', (o) => withFinding(o, (f) => ({ ...f, region: { kind: 'point', point: [512.5, 10] } })));
    });
    it('a polygon of two points', function () {
      refuses('result.findings[0].region', (o) => withFinding(o, (f) => ({ ...f, region: { kind: 'polygon', points: [[1, 1], [2, 2]] } })));
    });
    it('an image that is not in the series', function () {
      refuses('result.findings[0].image', (o) => withFinding(o, (f) => ({ ...f, image: { ...f.image, sopInstanceUid: '1.2.3.4' } })));
    });
    it('an image whose size differs from the series entry', function () {
      refuses('result.findings[0].image', (o) => withFinding(o, (f) => ({ ...f, image: { ...f.image, rows: 256 } })));
    });
    it('a unit that is not UCUM', function () {
      refuses('result.findings[0].measurements[0].unit', (o) => withFinding(o, (f) => ({
        ...f, measurements: [{ concept: { value: '42798000', scheme: 'SCT', meaning: 'Area' }, value: 1, unit: { value: 'mm2', scheme: '99X', meaning: 'mm2' } }],
      })));
    });
    it('a measurement that is not a number', function () {
      refuses('result.findings[0].measurements[0].value', (o) => withFinding(o, (f) => ({
        ...f, measurements: [{ concept: { value: '42798000', scheme: 'SCT', meaning: 'Area' }, value: NaN, unit: { value: 'mm2', scheme: 'UCUM', meaning: 'mm2' } }],
      })));
    });
    it('a tracking identifier used twice', function () {
      refuses('result.findings[1].trackingIdentifier', (o) => ({
        ...o, result: { ...o.result, findings: o.result.findings.map((f) => ({ ...f, trackingIdentifier: 'same' })) },
      }));
    });
    it('a confidence above 1', function () {
      refuses('result.findings[0].confidence', (o) => withFinding(o, (f) => ({ ...f, confidence: 1.5 })));
    });
    it('a malformed result UID', function () {
      refuses('instance.sopInstanceUid', (o) => ({ ...o, instance: resultIdentity({ sopInstanceUid: '2.25.0123' }) }));
    });
    it('a content time that is not TM', function () {
      refuses('instance.contentTime', (o) => ({ ...o, instance: resultIdentity({ contentTime: '25:00' }) }));
    });
    it('a study UID that is not a UID', function () {
      refuses('source.StudyInstanceUID', (o) => ({ ...o, source: { ...o.source, StudyInstanceUID: 'study-1' } }));
    });
    it('a label with a backslash', function () {
      refuses('result.findings[0].label', (o) => withFinding(o, (f) => ({ ...f, label: 'a\\b' })));
    });
  });
});
