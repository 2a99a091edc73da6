import { strict as assert } from 'node:assert';

import { buildTermSets, loadWhitelist, normalizeTerm, scrubReport, scrubText, type InspectIdentifiers, type TermSets } from '../../../plugin/deid/text';

const INSPECT: InspectIdentifiers = {
  patient: { id: 'MRN-0047-1182', name: 'Müller-Lüdenscheidt^José^Ángel', birthDate: '19280314', otherIds: ['XZ991234'] },
  accessionNumber: 'ACC20190304',
  identifiers: [
    { path: '00100010', keyword: 'PatientName', vr: 'PN', value: 'Müller-Lüdenscheidt^José^Ángel' },
    { path: '00080090', keyword: 'ReferringPhysicianName', vr: 'PN', value: 'Okonkwo^Chidinma' },
    { path: '00081070', keyword: 'OperatorsName', vr: 'PN', value: 'Yamada^Tarou=山田^太郎=やまだ^たろう' },
    { path: '00081050', keyword: 'PerformingPhysicianName', vr: 'PN', value: 'Kim^Min-jun=김^민준' },
    { path: '00080080', keyword: 'InstitutionName', vr: 'LO', value: 'Sankt Gertrauden Krankenhaus' },
    { path: '00080081', keyword: 'InstitutionAddress', vr: 'ST', value: 'Paretzer Straße 12, 10713 Berlin' },
    { path: '00102154', keyword: 'PatientTelephoneNumbers', vr: 'SH', value: '+49 30 8272 1234' },
    { path: '00400275[0].00321033', keyword: 'RequestingService', vr: 'LO', value: 'Stroke Unit 4B' },
  ],
};

let terms: TermSets;
before(() => {
  terms = buildTermSets(INSPECT);
});

/** No identifying token of INSPECT survives, in any case or accent form. */
function assertNoLeak(text: string): void {
  const n = normalizeTerm(text);
  for (const token of ['muller', 'ludenscheidt', 'jose', 'angel', 'okonkwo', 'chidinma', 'yamada', 'tarou', '山田', '太郎', 'やまだ', 'たろう', '김', '민준', 'gertrauden', 'paretzer', '10713', 'berlin', '0047', '1182', 'xz991234', 'acc20190304', '8272']) {
    assert.ok(!n.includes(token), `leaked ${token} in: ${text}`);
  }
}

describe('buildTermSets', () => {
  it('blacklists name parts, full forms and IDs; initials and one-letter parts go to the graylist', () => {
    const black = new Set(terms.blacklist.map((t) => t.term));
    for (const t of ['muller-ludenscheidt', 'muller', 'ludenscheidt', 'jose', 'angel', 'jose angel muller-ludenscheidt', 'okonkwo', '山田', '太郎', 'mrn00471182', 'acc20190304', 'berlin']) {
      assert.ok(black.has(t), t);
    }
    const gray = terms.graylist.map((g) => g.token);
    for (const t of ['j', 'a', 'm', 'jml', 'jaml', 'co', 'oc']) assert.ok(gray.includes(t), t);
    assert.ok(!black.has('j') && !black.has('r') && !black.has('l'));
  });

  it('takes the report’s own identifiers when given', () => {
    const t = buildTermSets(INSPECT, 'Patient: Smith, Alice\nMRN: 99887766\nFindings: normal.');
    const black = new Set(t.blacklist.map((x) => x.term));
    assert.ok(black.has('smith') && black.has('alice') && black.has('99887766'));
  });

  it('the committed whitelist has a few hundred terms', () => {
    const w = loadWhitelist();
    assert.ok(w.size > 300);
    for (const t of ['l', 'r', 'ap', 'pa', 'cm', 'mm', 'hu', 'contrast', 'liver', 'axial']) assert.ok(w.has(t), t);
  });
});

describe('scrubText', () => {
  it('replaces names in any case, order and accent form, with initials, by one fiducial each', () => {
    const cases: [string, string][] = [
      ['Patient José Ángel Müller-Lüdenscheidt seen today.', 'Patient % PATIENT NAME % seen today.'],
      ['MÜLLER-LÜDENSCHEIDT, JOSE: no change.', '% PATIENT NAME %: no change.'],
      ['muller-ludenscheidt jose angel', '% PATIENT NAME %'],
      ['J. Müller-Lüdenscheidt called.', '% PATIENT NAME % called.'],
      ['Ludenscheidt J.A. reviewed', '% PATIENT NAME %. reviewed'],
      ['Dr Okonkwo C. compared.', 'Dr % PERSON NAME %. compared.'],
      ['Ｊｏｓｅ (full-width) ok', '% PATIENT NAME % (full-width) ok'],
    ];
    for (const [input, want] of cases) {
      const r = scrubText(input, terms);
      assert.equal(r.text, want, input);
      assertNoLeak(r.text);
    }
  });

  it('matches Japanese and Korean names as substrings', () => {
    const r = scrubText('技師 山田太郎 と やまだ たろう、김민준 선생님', terms);
    assertNoLeak(r.text);
    assert.ok(r.text.includes('% PERSON NAME %'));
    assert.ok(r.text.startsWith('技師 '));
  });

  it('replaces IDs with or without separators, phones, addresses, institutions and dates', () => {
    const input =
      'MRN mrn 0047 1182 / ID mrn-0047-1182, other XZ-991234, acc ACC20190304. Call +49 30 8272 1234 or 030 555 12 34 567. ' +
      'Lives at Paretzer Strasse 12, 10713 Berlin. Seen at Sankt Gertrauden Krankenhaus (Stroke Unit 4B). ' +
      'Dates: 2019-03-04, 04/03/2019, 4 March 2019, March 4th, 2019, 20190304, 2019年3月4日, 12.03.2019.';
    const r = scrubText(input, terms);
    assertNoLeak(r.text);
    assert.ok(!/2019|0304|555/.test(r.text), r.text);
    for (const kind of ['ID', 'PHONE', 'ADDRESS', 'INSTITUTION', 'DATE']) assert.ok(r.hits.some((h) => h.kind === kind), kind);
    assert.ok(r.text.includes('MRN % ID %'));
  });

  it('never touches whitelisted words or lone initials, and leaves measurements alone', () => {
    const input = 'CT chest AP/PA: 12 mm nodule in the R upper lobe, L kidney 3.2 cm, 45 HU, J-shaped stent. T2 FLAIR at 1.5 T.';
    const r = scrubText(input, terms);
    assert.equal(r.text, input);
    assert.deepEqual(r.hits, []);
  });

  it('a whitelisted word that is a name part is scrubbed only beside the rest of the name', () => {
    const t = buildTermSets({ patient: { id: 'P1', name: 'Mass^John', birthDate: '', otherIds: [] }, accessionNumber: '', identifiers: [] });
    assert.equal(scrubText('Small mass in the liver.', t).text, 'Small mass in the liver.');
    assert.equal(scrubText('John Mass had a mass.', t).text, '% PATIENT NAME % had a mass.');
  });

  it('reports kind and offset of each hit, never the value', () => {
    const input = 'Okonkwo saw Müller on 2019-03-04.';
    const r = scrubText(input, terms);
    assert.deepEqual(
      r.hits.map((h) => [h.kind, input.slice(h.offset, h.offset + h.length)]),
      [['PERSON NAME', 'Okonkwo'], ['PATIENT NAME', 'Müller'], ['DATE', '2019-03-04']],
    );
    for (const h of r.hits) assert.deepEqual(Object.keys(h).sort(), ['kind', 'length', 'offset']);
  });

  it('keeps offsets right around characters that normalize to several units', () => {
    const input = 'ﬁnding: Müller ﬁne';
    const r = scrubText(input, terms);
    assert.equal(r.text, 'ﬁnding: % PATIENT NAME % ﬁne');
  });
});

describe('scrubReport', () => {
  it('plain text: the same scrubber', () => {
    const report = 'Patient: Smith, Alice\nMRN: 99887766\nDOB: 12/01/1931\n\nFindings: Alice Smith (A.S.) has a 5 mm nodule, right lower lobe.';
    const t = buildTermSets(INSPECT, report);
    const r = scrubReport(report, t);
    assert.ok(!/smith|alice|99887766|1931/i.test(r.text), r.text);
    assert.ok(r.text.includes('5 mm nodule, right lower lobe'));
    assert.equal(r.text.split('\n').length, report.split('\n').length);
  });

  it('HL7 v2 ORU: PID fields become fiducials, OBX-5 is scrubbed, the structure stays', () => {
    const hl7 = [
      'MSH|^~\\&|RIS|Sankt Gertrauden Krankenhaus|PACS|AI|20190304120000||ORU^R01|MSG00001|P|2.5',
      'PID|1||99887766^^^HOSP^MR~XZ991234^^^OTHER||Smith^Alice^B||19310112|F|||1 High Street^^Springfield^IL^62701||(217)555-0199|||||ACCT-777',
      'OBR|1|ORD123|ACC20190304|24627-2^CT CHEST^LN|||20190304101500|||||||||Okonkwo^Chidinma',
      'OBX|1|TX|24627-2^CT CHEST^LN||Compared with 2018-02-01. Alice Smith: 5 mm nodule RLL. Dr Okonkwo.||||||F',
      'OBX|2|TX|24627-2^CT CHEST^LN||Call 217 555 0199 with results; A. Smith aware.||||||F',
    ].join('\r');
    const t = buildTermSets(INSPECT, hl7);
    const r = scrubReport(hl7, t);
    const segs = r.text.split('\r');
    assert.equal(segs.length, 5);
    assert.deepEqual(
      segs.map((s) => s.split('|').length),
      hl7.split('\r').map((s) => s.split('|').length),
    );
    assert.ok(segs[0]?.startsWith('MSH|^~\\&|RIS|'));
    const pid = segs[1]?.split('|') ?? [];
    assert.equal(pid[3], '% ID %');
    assert.equal(pid[5], '% PATIENT NAME %');
    assert.equal(pid[7], '% DATE %');
    assert.equal(pid[8], 'F');
    assert.equal(pid[11], '% ADDRESS %');
    assert.equal(pid[13], '% PHONE %');
    assert.ok(!/smith|alice|99887766|okonkwo|chidinma|springfield|555|gertrauden|2018|20190304|ACC2019/i.test(r.text), r.text);
    assert.ok(r.text.includes('5 mm nodule RLL'));
    assert.ok(r.hits.every((h) => typeof h.offset === 'number'));
  });
});
