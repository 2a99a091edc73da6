import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as dcmjs from 'dcmjs';

import { DeidentificationMethod } from '../../../plugin/core/codes';
import {
  defaultDeidConfigDir,
  DeidPolicyError,
  loadDeidConfig,
  loadPolicy,
  OPTION_COLUMNS,
  policyFor,
  RESOLVED_ACTIONS,
  type DeidPolicy,
  type DeidTableRow,
  type OptionField,
  type ResolvedAction,
} from '../../../plugin/deid/policy';

// The rule, spelled out here independently of resolve-action.ts (docs/deid-engine.md "Changes").
const COMBINED_EXPECTED: Record<string, ResolvedAction> = { X: 'X', Z: 'Z', D: 'D', K: 'K', C: 'C', U: 'U', 'X/Z': 'Z', 'X/D': 'D', 'Z/D': 'D', 'X/Z/D': 'D', 'X/Z/U*': 'U' };

function expected(row: DeidTableRow, options: readonly OptionField[]): ResolvedAction {
  const fromOptions = options.map((o) => row.options[o]).filter((v): v is 'K' | 'C' => v !== null);
  if (fromOptions.includes('C')) return 'C';
  if (fromOptions.includes('K')) return 'K';
  const e = COMBINED_EXPECTED[row.basic];
  assert.ok(e !== undefined, `unknown action ${row.basic}`);
  return e;
}

const config = loadDeidConfig();
const basic = policyFor(config, 'basic');
const research = policyFor(config, 'research');

function actionOf(policy: DeidPolicy, keyword: string): ResolvedAction | undefined {
  const row = config.table.rows.find((r) => r.keyword === keyword);
  const safe = config.profiles.safePublic.find((s) => s.keyword === keyword);
  const tag = row?.tag ?? safe?.tag;
  assert.ok(tag !== undefined, `${keyword} is neither in the table nor in the safe list`);
  return policy.table.actions[tag];
}

describe('de-identification policy', () => {
  it('the table has all 621 rows and every option column', () => {
    assert.equal(config.table.rows.length, 621);
    assert.equal(config.table.header.rowCount, 621);
    for (const { field } of OPTION_COLUMNS) assert.ok(config.table.rows.some((r) => r.options[field] !== null), `${field} never used`);
    assert.match(config.table.header.attribution, /DICOM® standard, NEMA, PS3\.15 Table E\.1-1/);
  });

  for (const policy of [basic, research]) {
    it(`every row resolves to one of X Z D K C U by the documented rule (${policy.profile.name})`, () => {
      let exact = 0;
      for (const row of config.table.rows) {
        if (row.tag === 'private') continue;
        const want = expected(row, policy.profile.options);
        assert.ok((RESOLVED_ACTIONS as readonly string[]).includes(want));
        if (/^[0-9a-f]{8}$/.test(row.tag)) {
          assert.equal(policy.table.actions[row.tag], want, `${row.tagText} ${row.name}: ${row.basic}`);
          exact++;
        } else {
          assert.deepEqual(policy.table.masks.find((m) => m.mask === row.tag), { mask: row.tag, action: want }, row.tagText);
        }
      }
      assert.equal(exact, 617);
      assert.equal(policy.table.masks.length, 3);
      for (const a of Object.values(policy.table.actions)) assert.ok((RESOLVED_ACTIONS as readonly string[]).includes(a));
      assert.equal(policy.table.defaultPublic, 'X');
      assert.equal(policy.table.maxAgeYears, 89);
    });
  }

  describe('one example per action', () => {
    it('D: Patient ID (Z/D) → D, the pseudonym', () => {
      assert.equal(actionOf(basic, 'PatientID'), 'D');
      assert.equal(actionOf(research, 'PatientID'), 'D');
    });
    it('Z: Accession Number and Patient’s Name (Z) → Z, which native fills with the pseudonym', () => {
      assert.equal(actionOf(basic, 'AccessionNumber'), 'Z');
      assert.equal(actionOf(research, 'PatientName'), 'Z');
    });
    it('Z vs C: Study Date is Z in basic and C (shifted) in research', () => {
      assert.equal(actionOf(basic, 'StudyDate'), 'Z');
      assert.equal(actionOf(research, 'StudyDate'), 'C');
    });
    it('X: Other Patient IDs, Institution Address; Institution Name (X/Z/D) → D', () => {
      assert.equal(actionOf(basic, 'OtherPatientIDs'), 'X');
      assert.equal(actionOf(research, 'InstitutionAddress'), 'X');
      assert.equal(actionOf(research, 'InstitutionName'), 'D');
    });
    it('U: SOP Instance UID; Source Image Sequence (X/Z/U*) → U', () => {
      assert.equal(actionOf(basic, 'SOPInstanceUID'), 'U');
      assert.equal(actionOf(research, 'SourceImageSequence'), 'U');
    });
    it('K: Patient’s Age and Sex kept under Retain Patient Characteristics; Modality kept by the safe list', () => {
      assert.equal(actionOf(basic, 'PatientAge'), 'X');
      assert.equal(actionOf(research, 'PatientAge'), 'K');
      assert.equal(actionOf(research, 'PatientSex'), 'K');
      assert.equal(actionOf(basic, 'Modality'), 'K');
      assert.equal(actionOf(research, 'PixelData'), 'K');
    });
    it('C: Study Description under Clean Descriptors, Content Sequence under Clean Structured Content', () => {
      assert.equal(actionOf(basic, 'StudyDescription'), 'X');
      assert.equal(actionOf(research, 'StudyDescription'), 'C');
      assert.equal(actionOf(research, 'ContentSequence'), 'C');
    });
    it('C beats K when two selected options disagree (Allergies; a dated device field)', () => {
      assert.equal(actionOf(research, 'Allergies'), 'C');
      const r = config.table.rows.find((x) => x.options.retainDeviceIdentity === 'K' && x.options.retainLongitudinalModifiedDates === 'C');
      assert.ok(r !== undefined);
      const both = policyFor(
        { ...config, profiles: { ...config.profiles, profiles: new Map([['t', { ...research.profile, name: 't', options: ['retainDeviceIdentity', 'retainLongitudinalModifiedDates'] }]]) } },
        't',
      );
      assert.equal(both.table.actions[r.tag], 'C');
    });
    it('a public attribute in neither the table nor the safe list is removed', () => {
      assert.equal(research.table.actions['00081030'] === undefined ? 'X' : 'in table', 'in table');
      assert.equal(research.table.actions['00091001'], undefined);
      assert.equal(research.table.defaultPublic, 'X');
    });
  });

  it('records the CID 7050 codes and markers of each profile', () => {
    assert.deepEqual(basic.methodCodes, [DeidentificationMethod.BasicApplicationConfidentialityProfile]);
    assert.deepEqual(
      research.methodCodes.map((c) => c.value),
      ['113100', '113107', '113108', '113105', '113104', '113111'],
    );
    assert.equal(basic.longitudinalTemporalInformationModified, 'REMOVED');
    assert.equal(research.longitudinalTemporalInformationModified, 'MODIFIED');
    assert.equal(research.shiftDates, true);
    assert.ok(research.deidentificationMethod.length <= 64);
    assert.deepEqual(basic.table.privateCreatorsKept, []);
    assert.deepEqual(research.table.privateCreatorsKept, ['SIEMENS MR HEADER']);
    for (const k of research.table.privateKept) assert.match(k, /^[0-9a-f]{3}[13579bdf],SIEMENS MR HEADER,[0-9a-f]{2}$/);
  });

  it('safe public attributes are PS3.6 public tags with the keyword listed, and none is in Table E.1-1', () => {
    const nameMap = (dcmjs.data.DicomMetaDictionary as unknown as { nameMap: Record<string, { tag: string } | undefined> }).nameMap;
    const tableTags = new Set(config.table.rows.map((r) => r.tag));
    assert.ok(config.profiles.safePublic.length > 100);
    for (const s of config.profiles.safePublic) {
      const entry = nameMap[s.keyword];
      assert.ok(entry !== undefined, s.keyword);
      assert.equal(entry.tag.replace(/[(),]/g, '').toLowerCase(), s.tag, s.keyword);
      assert.ok(!tableTags.has(s.tag), `${s.keyword} is in the table`);
      assert.ok(s.why.length > 20);
    }
  });

  it('cleaned public attributes are C under Clean Descriptors (research) and X without it (basic), in neither the table nor the safe list', () => {
    const nameMap = (dcmjs.data.DicomMetaDictionary as unknown as { nameMap: Record<string, { tag: string; vr: string } | undefined> }).nameMap;
    const tableTags = new Set(config.table.rows.map((r) => r.tag));
    const safeTags = new Set(config.profiles.safePublic.map((s) => s.tag));
    assert.ok(config.profiles.cleanedPublic.some((c) => c.keyword === 'SegmentDescription'));
    for (const c of config.profiles.cleanedPublic) {
      const entry = nameMap[c.keyword];
      assert.ok(entry !== undefined, c.keyword);
      assert.equal(entry.tag.replace(/[(),]/g, '').toLowerCase(), c.tag, c.keyword);
      // The text pass only sees text VRs (native IsTextVr); a C on anything else would be kept unscrubbed.
      assert.ok(['CS', 'SH', 'LO', 'ST', 'LT', 'UT', 'UC'].includes(entry.vr), `${c.keyword} is ${entry.vr}`);
      assert.ok(!tableTags.has(c.tag) && !safeTags.has(c.tag), c.keyword);
      assert.equal(research.table.actions[c.tag], 'C', c.keyword);
      assert.equal(basic.table.actions[c.tag], 'X', c.keyword);
    }
  });

  it('code items are kept or cleaned, but removed inside the items of a D or Z sequence (identifyingItems)', () => {
    for (const policy of [basic, research]) {
      assert.equal(policy.table.actions['00080100'], 'K', 'CodeValue kept');
      assert.equal(policy.table.identifyingItems['00080100'], 'D', 'CodeValue inside an identifying sequence');
      assert.equal(policy.table.identifyingItems['00080104'], 'D', 'CodeMeaning inside an identifying sequence');
      assert.equal(policy.table.identifyingItems['00080103'], 'X', 'CodingSchemeVersion inside an identifying sequence');
      // Only the flagged groups: the reference structure of a Z sequence (ReferencedStudySequence) stays valid.
      assert.equal(policy.table.identifyingItems['00081150'], undefined, 'ReferencedSOPClassUID');
      assert.equal(policy.table.identifyingItems['00620004'], undefined, 'SegmentNumber');
    }
    assert.equal(research.table.actions['00080104'], 'C');
    assert.equal(basic.table.actions['00080104'], 'X');
  });

  describe('the loader refuses', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'aib-deid-config-'));
      cpSync(defaultDeidConfigDir(), dir, { recursive: true });
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const edit = (file: string, change: (json: Record<string, unknown>) => void): void => {
      const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      change(json);
      writeFileSync(join(dir, file), JSON.stringify(json));
    };
    const refuses = (code: string, profile = 'research'): void => {
      assert.throws(() => loadPolicy(profile, dir), (e: unknown) => e instanceof DeidPolicyError && e.code === code);
    };
    type Profiles = { profiles: Record<string, Record<string, unknown>> };

    it('an unknown profile', () => {
      assert.equal(loadPolicy('research', dir).profile.name, 'research');
      refuses('AIB_DEID_POLICY_UNKNOWN_PROFILE', 'nope');
    });
    it('an unknown key in profiles.json', () => {
      edit('profiles.json', (j) => ((j as unknown as Profiles).profiles.research = { ...(j as unknown as Profiles).profiles.research, maxAge: 89 }));
      refuses('AIB_DEID_POLICY_INVALID');
    });
    it('method codes that do not match the options', () => {
      edit('profiles.json', (j) => ((j as unknown as Profiles).profiles.research = { ...(j as unknown as Profiles).profiles.research, methodCodes: [{ value: '113100', scheme: 'DCM', meaning: 'Basic Application Confidentiality Profile' }] }));
      refuses('AIB_DEID_POLICY_INVALID');
    });
    it('full and modified dates together', () => {
      edit('profiles.json', (j) => {
        const r = (j as unknown as Profiles).profiles.research;
        assert.ok(r !== undefined);
        r.options = [...(r.options as string[]), 'retainLongitudinalFullDates'];
      });
      refuses('AIB_DEID_POLICY_INVALID');
    });
    it('private blocks without the Retain Safe Private option', () => {
      edit('profiles.json', (j) => {
        const b = (j as unknown as Profiles).profiles.basic;
        assert.ok(b !== undefined);
        b.privateCreatorsKept = ['SIEMENS MR HEADER'];
      });
      refuses('AIB_DEID_POLICY_INVALID', 'basic');
    });
    type Groups = Record<'safePublicAttributes' | 'cleanedPublicAttributes', { why: string; attributes: { tag: string; keyword: string }[] }[]>;
    const refusesNaming = (key: string): void => {
      assert.throws(() => loadPolicy('research', dir), (e: unknown) => e instanceof DeidPolicyError && e.code === 'AIB_DEID_POLICY_INVALID' && e.message.includes(key));
    };
    it('an attribute both kept and cleaned, naming it', () => {
      edit('profiles.json', (j) => (j as unknown as Groups).cleanedPublicAttributes.push({ why: 'test', attributes: [{ tag: '00620004', keyword: 'SegmentNumber' }] }));
      refusesNaming('cleanedPublicAttributes.SegmentNumber');
    });
    it('a cleaned attribute listed twice, naming it', () => {
      edit('profiles.json', (j) => (j as unknown as Groups).cleanedPublicAttributes.push({ why: 'test', attributes: [{ tag: '00620006', keyword: 'SegmentDescription' }] }));
      refusesNaming('cleanedPublicAttributes.SegmentDescription');
    });
    it('a cleaned attribute that Table E.1-1 already decides, naming it', () => {
      edit('profiles.json', (j) => (j as unknown as Groups).cleanedPublicAttributes.push({ why: 'test', attributes: [{ tag: '0008103e', keyword: 'SeriesDescription' }] }));
      refusesNaming('cleanedPublicAttributes.SeriesDescription');
    });
    it('a profiles.json without the cleaned list', () => {
      edit('profiles.json', (j) => {
        delete (j as Partial<Groups>).cleanedPublicAttributes;
      });
      refusesNaming('cleanedPublicAttributes');
    });
    it('a table row with an unknown action', () => {
      edit('ps3.15-e1-1.json', (j) => {
        const rows = j.rows as Record<string, unknown>[];
        const first = rows[0];
        assert.ok(first !== undefined);
        first.basic = 'Q';
      });
      refuses('AIB_DEID_POLICY_INVALID');
    });
  });
});
