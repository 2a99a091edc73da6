import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';

import dcmjs from 'dcmjs';

import { createDeidEngine } from '../../plugin/deid/deid-engine';
import { deidentifyInstance } from '../../plugin/deid/deidentify-instance';
import { SiteKey } from '../../plugin/deid/pseudonyms';
import { PATIENT_1, sharedFile } from './corpus/planted-corpus';

dcmjs.log.setLevel('silent');

type Dataset = dcmjs.data.DicomDataset;

const KEY = SiteKey.fromBytes(Buffer.alloc(32, 0x5a), 'test key');
const SOURCE = 'highdicom/seg_image_ct_binary.dcm';

function readDict(bytes: Buffer): dcmjs.data.DicomDict {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return dcmjs.data.DicomMessage.readFile(copy);
}

function str(ds: Dataset | undefined, tag: string): string | undefined {
  const v: unknown = ds?.[tag]?.Value?.[0];
  if (v === undefined) return undefined;
  assert.ok(typeof v === 'string' || typeof v === 'number', `${tag} is a string or number value`);
  return String(v);
}

function firstSegment(ds: Dataset): Dataset {
  const item: unknown = ds['00620002']?.Value?.[0];
  assert.ok(item !== undefined, 'SegmentSequence has an item');
  return item as Dataset;
}

/**
 * The free text a Segmentation requires (cleanedPublicAttributes in
 * config/deid/profiles.json), planted with patient 1's name and ID and the
 * referring physician's name, which the header also carries so the text pass
 * blacklists them.
 */
function plantedSeg(): Buffer {
  const dict = readDict(readFileSync(sharedFile(SOURCE)));
  const ds = dict.dict;
  ds['00100010'] = { vr: 'PN', Value: [{ Alphabetic: PATIENT_1.name }] };
  ds['00100020'] = { vr: 'LO', Value: [PATIENT_1.id] };
  ds['00080090'] = { vr: 'PN', Value: [{ Alphabetic: PATIENT_1.referring }] };
  ds['00700080'] = { vr: 'CS', Value: ['QUACKENBUSH'] };
  ds['00700081'] = { vr: 'LO', Value: [`Liver mask for Quackenbush ${PATIENT_1.id}`] };
  const segment = firstSegment(ds);
  segment['00620005'] = { vr: 'LO', Value: ['Philomena lesion'] };
  segment['00620006'] = { vr: 'ST', Value: ['Drawn by Dr Thistlewaite for Philomena Quackenbush'] };
  return Buffer.from(dict.write());
}

describe('cleaned public attributes: free text that enhanced and SEG IODs require', function () {
  this.timeout(60_000);
  const input = plantedSeg();
  const run = (profile: string): Dataset =>
    readDict(
      deidentifyInstance(createDeidEngine(profile, KEY), input, { sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3.5', studyInstanceUid: '1.2.3.6' }).bytes,
    ).dict;

  it('research (Clean Descriptors): planted names and IDs in Content Description and Segment Label/Description become fiducials', () => {
    const ds = run('research');
    assert.equal(str(ds, '00700081'), 'Liver mask for % PATIENT NAME % % ID %');
    const segment = firstSegment(ds);
    assert.equal(str(segment, '00620005'), '% PATIENT NAME % lesion');
    assert.equal(str(segment, '00620006'), 'Drawn by Dr % PERSON NAME % for % PATIENT NAME %');
    // Content Label is a CS (≤ 16 of A-Z 0-9 space _): the fiducial takes the CS form.
    assert.equal(str(ds, '00700080'), 'PATIENT_NAME');
    // The structure around the text is kept (safe list): segment number, type, coded property.
    assert.equal(str(segment, '00620004'), '1');
    assert.equal(str(ds, '00620001'), 'BINARY');
    assert.ok(segment['0062000F']?.Value?.length === 1);
  });

  it('basic (no Clean Descriptors): the same text is removed, the structure is kept', () => {
    const ds = run('basic');
    const segment = firstSegment(ds);
    for (const [where, tag] of [[ds, '00700080'], [ds, '00700081'], [segment, '00620005'], [segment, '00620006']] as const) {
      assert.equal(where[tag], undefined, `${tag} removed`);
    }
    assert.equal(str(segment, '00620004'), '1');
    assert.equal(str(ds, '00620001'), 'BINARY');
  });
});
