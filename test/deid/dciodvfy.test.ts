import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { deidentifyInstance, type DeidEngine } from '../../plugin/deid/deidentify-instance';
import { createDeidEngine } from '../../plugin/deid/deid-engine';
import { SiteKey } from '../../plugin/deid/pseudonyms';
import { sharedFile } from './corpus/planted-corpus';
import { dciodvfyErrors } from './dciodvfy-errors';


/**
 * Real inputs from ../shared/data/INDEX.tsv. The issue asks for CT, MR, CR,
 * US, SR, SEG, JPEG-LS and JPEG 2000; enhanced multi-frame CT and MR (two
 * vendors' layouts) are here because their functional-group macros are what
 * the safe list must keep.
 */
const SAMPLES: readonly { readonly kind: string; readonly path: string }[] = [
  { kind: 'CR', path: 'orthanc-tests/GSPS/CR000000.dcm' },
  { kind: 'CT', path: 'tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-01.dcm' },
  { kind: 'MR', path: 'dcm_qa_nih/20180918Si/mr_0003/epi_pe_ap-00001.dcm' },
  { kind: 'US', path: 'deid-data/ultrasounds/RGB_IMAGE.dcm' },
  { kind: 'JPEG-LS', path: 'dcm_qa_ts/7.dcm' },
  { kind: 'JPEG 2000', path: 'dcm_qa_ts/9.dcm' },
  { kind: 'SR', path: 'pydicom/test_files/test-SR.dcm' },
  { kind: 'SR TID 1500', path: 'highdicom/sr_document.dcm' },
  { kind: 'Enhanced MR', path: 'pydicom-data/emri_small.dcm' },
  { kind: 'Enhanced MR Philips', path: 'dcm_qa_enh/Philips/IM_0027_fMAP.dcm' },
  { kind: 'Enhanced CT', path: 'pydicom-data/eCT_Supplemental.dcm' },
  { kind: 'SEG highdicom', path: 'highdicom/seg_image_ct_binary.dcm' },
  { kind: 'SEG dcmqi', path: 'dcmqi/sr-example/seg.dcm' },
];

/**
 * Kinds that cannot stay valid under `basic`. PS3.15 Basic removes Content
 * Sequence (X), so an SR loses its tree (Clean Structured Content keeps it).
 * Enhanced MR/CT and SEG require free text (Pulse Sequence Name, coil names,
 * Code Meaning, LUT Label, Content Label, Segment Label, …, Type 1): basic
 * removes descriptors by design, and only Clean Descriptors may keep them,
 * scrubbed (cleanedPublicAttributes in config/deid/profiles.json).
 */
const RESEARCH_ONLY = /^(SR|Enhanced|SEG)/;

function engineFor(profile: string): DeidEngine {
  return createDeidEngine(profile, SiteKey.fromBytes(Buffer.alloc(32, 0x3c), 'test key'));
}

function top(file: string, tag: string): string {
  const dump = execFileSync('dcmdump', ['-q', '+P', tag, file], { encoding: 'latin1' });
  return /\[([^\]]*)\]/.exec(dump)?.[1] ?? '';
}

describe('de-identified outputs pass dciodvfy with no error the input did not have', function () {
  this.timeout(120_000);
  let tmp = '';
  const engines = new Map<string, DeidEngine>();

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'aib-dciodvfy-'));
    for (const profile of ['research', 'basic']) engines.set(profile, engineFor(profile));
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('dciodvfy is installed', () => {
    assert.equal(spawnSync('dciodvfy', ['-help'], { encoding: 'utf8' }).error, undefined);
  });

  for (const profile of ['research', 'basic']) {
    for (const sample of SAMPLES.filter((s) => profile === 'research' || !RESEARCH_ONLY.test(s.kind))) {
      it(`${profile} ${sample.kind} (${sample.path})`, () => {
        const engine = engines.get(profile);
        assert.ok(engine !== undefined);
        const input = sharedFile(sample.path);
        const references = {
          sopInstanceUid: top(input, '0008,0018'),
          seriesInstanceUid: top(input, '0020,000e'),
          studyInstanceUid: top(input, '0020,000d'),
        };
        const result = deidentifyInstance(engine, readFileSync(input), references);
        const output = join(tmp, `${profile}-${sample.kind.replace(/\W/g, '')}.dcm`);
        writeFileSync(output, result.bytes);
        const before = dciodvfyErrors(input);
        const added = [...dciodvfyErrors(output)].filter((error) => !before.has(error));
        assert.deepEqual(added, [], `new dciodvfy errors for ${sample.path} under ${profile}`);
      });
    }
  }
});
