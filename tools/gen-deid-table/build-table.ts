/**
 * Reference rows (../shared/reference/ps3.15-table-e.1-1.json) → the
 * normalized table of config/deid/ps3.15-e1-1.json. Pure: the caller reads
 * and writes files. Anything unexpected in the source stops the generator
 * (STYLE.md: unknown input stops the parser instead of being skipped).
 */
import { createHash } from 'node:crypto';

import {
  OPTION_COLUMNS,
  TABLE_ACTIONS,
  type DeidTableFile,
  type DeidTableRow,
  type OptionField,
  type TableAction,
} from '../../plugin/deid/policy/table-format';

export class GenDeidTableError extends Error {
  constructor(message: string) {
    super(`gen-deid-table: ${message}`);
    this.name = 'GenDeidTableError';
  }
}

/** PS3.6 data dictionary entry, as far as the generator needs it. */
export interface DictionaryEntry {
  readonly keyword: string;
  readonly vr: string;
}
export type Dictionary = ReadonlyMap<string, DictionaryEntry>;

const KNOWN_COLUMNS = new Set<string>(['name', 'tag', 'id', 'stdCompIOD', 'basicProfile', ...OPTION_COLUMNS.map((c) => c.column)]);
const PRIVATE_TAG_TEXT = '(GGGG,EEEE) WHERE GGGG IS ODD';

/** "(0008,0050)" → "00080050"; "(60XX,4000)" → "60xx4000"; the private-attributes row → "private". */
export function normalizeTag(tagText: string): string {
  if (tagText.toUpperCase() === PRIVATE_TAG_TEXT) return 'private';
  const m = /^\(([0-9A-Fa-fXx]{4}),([0-9A-Fa-fXx]{4})\)$/.exec(tagText);
  if (m === null) throw new GenDeidTableError(`unrecognized tag ${JSON.stringify(tagText)}`);
  return `${m[1] ?? ''}${m[2] ?? ''}`.toLowerCase();
}

/**
 * A keyword-like name when PS3.6 has no entry: "Patient's Age" → "PatientAge",
 * "Operators' Name" → "OperatorsName", "Address (Trial)" → "AddressTrial",
 * the same transformation PS3.6 applies to names.
 */
export function keywordFromName(name: string): string {
  return name
    .replace(/'s\b/g, '')
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .map((w) => (w.length === 0 ? '' : (w[0] ?? '').toUpperCase() + w.slice(1)))
    .join('');
}

function isTableAction(v: unknown): v is TableAction {
  return typeof v === 'string' && (TABLE_ACTIONS as readonly string[]).includes(v);
}

function str(row: Record<string, unknown>, key: string, index: number): string {
  const v = row[key];
  if (typeof v !== 'string' || v.length === 0) throw new GenDeidTableError(`row ${index}: "${key}" must be a non-empty string`);
  return v;
}

function normalizeRow(raw: unknown, index: number, dictionary: Dictionary): DeidTableRow {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new GenDeidTableError(`row ${index} is not an object`);
  const row = raw as Record<string, unknown>;
  for (const key of Object.keys(row)) if (!KNOWN_COLUMNS.has(key)) throw new GenDeidTableError(`row ${index}: unknown column "${key}"`);
  const tagText = str(row, 'tag', index);
  const name = str(row, 'name', index);
  const tag = normalizeTag(tagText);
  const basic = row.basicProfile;
  if (!isTableAction(basic)) throw new GenDeidTableError(`row ${index} (${tagText}): basic profile action ${JSON.stringify(basic)} is not one of ${TABLE_ACTIONS.join(' ')}`);
  const std = row.stdCompIOD;
  if (std !== 'Y' && std !== 'N') throw new GenDeidTableError(`row ${index} (${tagText}): stdCompIOD must be Y or N`);
  const options = {} as Record<OptionField, 'K' | 'C' | null>;
  for (const { field, column } of OPTION_COLUMNS) {
    const v = row[column];
    if (v !== undefined && v !== 'K' && v !== 'C') throw new GenDeidTableError(`row ${index} (${tagText}): ${column} must be K or C, got ${JSON.stringify(v)}`);
    options[field] = v ?? null;
  }
  // Masks are looked up with x → 0 (PS3.6 lists repeating groups at their first group, e.g. (6000,3000)).
  const entry = tag === 'private' ? undefined : dictionary.get(tag.replace(/x/g, '0'));
  return {
    tag,
    tagText,
    name,
    keyword: entry?.keyword ?? keywordFromName(name),
    keywordFrom: entry === undefined ? 'name' : 'ps3.6',
    vr: entry !== undefined && /^[A-Z]{2}$/.test(entry.vr) ? entry.vr : '',
    inStdCompIod: std === 'Y',
    basic,
    options,
  };
}

/** "private" sorts last; everything else by tag (masks among the exact tags). */
function compareRows(a: DeidTableRow, b: DeidTableRow): number {
  if (a.tag === 'private' || b.tag === 'private') return (a.tag === 'private' ? 1 : 0) - (b.tag === 'private' ? 1 : 0);
  return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
}

export interface BuildInput {
  /** the reference file's bytes */
  readonly source: Buffer;
  /** path recorded in the header, relative to the repository */
  readonly sourceName: string;
  readonly dictionary: Dictionary;
  readonly dictionaryName: string;
}

export function buildTable(input: BuildInput): DeidTableFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.source.toString('utf8'));
  } catch (e) {
    throw new GenDeidTableError(`${input.sourceName} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(parsed)) throw new GenDeidTableError(`${input.sourceName} must hold an array of rows`);
  const rows = (parsed as unknown[]).map((r, i) => normalizeRow(r, i, input.dictionary)).sort(compareRows);
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.tag)) throw new GenDeidTableError(`tag ${r.tagText} appears twice`);
    seen.add(r.tag);
  }
  const options = {} as Record<OptionField, string>;
  for (const { field, option } of OPTION_COLUMNS) options[field] = option;
  return {
    header: {
      title: 'DICOM PS3.15 Table E.1-1 Application Level Confidentiality Profile Attributes',
      attribution:
        'DICOM® standard, NEMA, PS3.15 Table E.1-1. DICOM® is the registered trademark of the National Electrical ' +
        'Manufacturers Association (NEMA) for its standards publications relating to digital communications of medical information.',
      licence:
        'Content of the DICOM Standard, © NEMA. The reference file records no licence text of its own; this attribution ' +
        'travels with every copy derived from it, and the rows are reproduced as published (normalized spelling of tags and columns only).',
      source: input.sourceName,
      sourceSha256: createHash('sha256').update(input.source).digest('hex'),
      edition: null,
      editionNote: 'The reference file names no edition of PS3.15; sourceSha256 identifies the exact input.',
      generator: 'tools/gen-deid-table/main.ts',
      keywordSource: `keyword and vr: PS3.6 data dictionary as shipped in ${input.dictionaryName}; rows with keywordFrom "name" are not in it and derive the keyword from the name`,
      rowCount: rows.length,
      options,
    },
    rows,
  };
}

/** Stable text: two-space JSON, one row per line, trailing newline. */
export function serializeTable(table: DeidTableFile): string {
  const rows = table.rows.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  const header = JSON.stringify(table.header, null, 2).replace(/\n/g, '\n  ');
  return `{\n  "header": ${header},\n  "rows": [\n${rows}\n  ]\n}\n`;
}
