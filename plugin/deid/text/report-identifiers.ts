/**
 * Identifying values stated in a report, for the blacklist (issue 4: term sets
 * are built from the header "and, when given, from the report text"): the PID,
 * PV1, ORC and OBR person and identifier fields of an HL7 v2 message, or the
 * labelled lines of a plain-text report ("Patient: …", "MRN: …"), which an
 * HL7 message's body (OBX-5, NTE-3) may hold as well.
 */
export interface ReportIdentifier {
  readonly keyword: string;
  readonly vr: string;
  readonly value: string;
}

export function isHl7(text: string): boolean {
  return /^\s*MSH\|/.test(text);
}

/** Segments of an HL7 v2 message; the segment terminator is CR, but files often carry LF or CRLF. */
export function hl7Segments(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((s) => s.length > 0);
}

/** XPN / XCN (family^given^middle…) → a DICOM-like PN "family^given^middle". */
function hl7Name(value: string, offset: number): string {
  const c = value.split('^');
  return [c[offset] ?? '', c[offset + 1] ?? '', c[offset + 2] ?? ''].join('^');
}

function repetitions(field: string | undefined): string[] {
  return (field ?? '').split('~').filter((r) => r.replace(/[\^&]/g, '') !== '');
}

function fromHl7(text: string): ReportIdentifier[] {
  const out: ReportIdentifier[] = [];
  const add = (keyword: string, vr: string, value: string): void => {
    if (value.replace(/[\^&\s]/g, '') !== '') out.push({ keyword, vr, value });
  };
  for (const segment of hl7Segments(text)) {
    const f = segment.split('|');
    const id = f[0];
    if (id === 'PID') {
      for (const n of [2, 3, 4, 18, 19, 20]) for (const r of repetitions(f[n])) add('PatientID', 'LO', r.split('^')[0] ?? '');
      for (const r of repetitions(f[5])) add('PatientName', 'PN', hl7Name(r, 0));
      for (const r of repetitions(f[9])) add('OtherPatientNames', 'PN', hl7Name(r, 0));
      for (const r of repetitions(f[6])) add('PatientMotherBirthName', 'PN', hl7Name(r, 0));
      for (const r of repetitions(f[11])) add('PatientAddress', 'LO', r);
      for (const n of [13, 14]) for (const r of repetitions(f[n])) add('PatientTelephoneNumbers', 'SH', r.split('^').find((c) => /\d/.test(c)) ?? '');
    } else if (id === 'PV1') {
      for (const n of [7, 8, 9, 17]) for (const r of repetitions(f[n])) add('ReferringPhysicianName', 'PN', hl7Name(r, 1));
      for (const r of repetitions(f[19])) add('AdmissionID', 'LO', r.split('^')[0] ?? '');
    } else if (id === 'ORC' || id === 'OBR') {
      const people = id === 'ORC' ? [10, 11, 12] : [16, 28];
      for (const n of people) for (const r of repetitions(f[n])) add('ReferringPhysicianName', 'PN', hl7Name(r, 1));
      if (id === 'OBR') {
        // OBR-32…35: NDL, name in the first component, its parts as sub-components.
        for (const n of [32, 33, 34, 35]) for (const r of repetitions(f[n])) add('PhysiciansOfRecord', 'PN', hl7Name((r.split('^')[0] ?? '').replace(/&/g, '^'), 1));
        for (const n of [2, 3, 18, 19, 20]) for (const r of repetitions(f[n])) add('AccessionNumber', 'SH', r.split('^')[0] ?? '');
      }
    } else if (id === 'OBX' || id === 'NTE') {
      // The body: its labelled lines ("Address: …", "MRN: …") as in a plain-text report (OBX-5, NTE-3).
      out.push(...fromPlainText(f[id === 'OBX' ? 5 : 3] ?? ''));
    } else if (id === 'MSH') {
      for (const n of [3, 5]) add('InstitutionName', 'LO', (f[n] ?? '').split('^')[0] ?? '');
    }
  }
  return out;
}

const LABELS: readonly { re: RegExp; keyword: string; vr: string }[] = [
  { re: /^(?:patient(?:'s)?\s*name|patient|name|nom|pt)$/i, keyword: 'PatientName', vr: 'PN' },
  { re: /^(?:patient\s*id|mrn|id|pid|medical record(?:\s*(?:no|number|#))?|hospital\s*(?:no|number))$/i, keyword: 'PatientID', vr: 'LO' },
  { re: /^(?:accession(?:\s*(?:no|number|#))?|acc(?:ession)?\s*#?)$/i, keyword: 'AccessionNumber', vr: 'SH' },
  { re: /^(?:referring(?:\s+(?:physician|doctor|md))?|physician|doctor|radiologist|dictated\s+by|signed\s+by|reported\s+by|read\s+by|attending|technologist|operator)$/i, keyword: 'ReferringPhysicianName', vr: 'PN' },
  { re: /^(?:address|adresse)$/i, keyword: 'PatientAddress', vr: 'LO' },
  { re: /^(?:phone|tel|telephone|mobile)$/i, keyword: 'PatientTelephoneNumbers', vr: 'SH' },
  { re: /^(?:hospital|institution|facility|site)$/i, keyword: 'InstitutionName', vr: 'LO' },
];

/** "Smith, John" → "Smith^John"; "Dr. John Smith" → "John Smith" (free-text names have no carets). */
function textName(value: string): string {
  const v = value.replace(/^(?:dr|mr|mrs|ms|prof)\.?\s+/i, '').replace(/,?\s+(?:md|phd|jr|sr)\.?$/i, '').trim();
  const comma = /^([^,]+),\s*(.+)$/.exec(v);
  return comma === null ? v : `${comma[1] ?? ''}^${comma[2] ?? ''}`;
}

function fromPlainText(text: string): ReportIdentifier[] {
  const out: ReportIdentifier[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    const m = /^\s*([A-Za-z][A-Za-z' ]{0,30}?)\s*[:#]\s*(\S.*?)\s*$/.exec(line);
    if (m === null) continue;
    const label = LABELS.find((l) => l.re.test((m[1] ?? '').trim()));
    if (label === undefined) continue;
    const value = m[2] ?? '';
    out.push({ keyword: label.keyword, vr: label.vr, value: label.vr === 'PN' ? textName(value) : value });
  }
  return out;
}

export function reportIdentifiers(text: string): ReportIdentifier[] {
  return isHl7(text) ? fromHl7(text) : fromPlainText(text);
}
