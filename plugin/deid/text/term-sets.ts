/**
 * Per-instance term sets for the second pass over text (seed claim 10):
 * - blacklist: identifying values from the header (every PN's parts and full
 *   forms, IDs, addresses, phone numbers, institutions, physicians,
 *   operators…) and, when given, from the report;
 * - graylist: terms that identify only next to a blacklist hit of the same
 *   person or value: initials ("J", "JS"), name parts of one letter (or one
 *   CJK character), name parts that are medical words, IDs under 4 characters.
 *   A graylist term alone is never scrubbed, so "R" and "L" survive;
 * - whitelist: medical vocabulary (config/deid/whitelist.txt), never scrubbed
 *   as a single word.
 * All terms are normalized (NFKD, lower case, no combining marks).
 */
import { type FiducialKind } from './fiducial';
import type { InspectIdentifiers } from './inspect-identifiers';
import { CJK, normalizeTerm, tokens } from './normalize';
import { personNameParts } from './person-name';
import { reportIdentifiers } from './report-identifiers';
import { loadWhitelist } from './whitelist';

/** phrase: word-bounded, separators between words free ("smith, john" = "Smith John"); alnum: letters and digits only, any separators ("12-345" = "12345"). */
export type MatchMode = 'phrase' | 'alnum';

export interface BlacklistTerm {
  readonly kind: FiducialKind;
  readonly term: string;
  readonly match: MatchMode;
  /** which identifier value it came from; graylist terms of the same entity are absorbed next to it */
  readonly entity: number;
}

export interface GraylistTerm {
  readonly kind: FiducialKind;
  readonly token: string;
  readonly entity: number;
  readonly why: 'initial' | 'short' | 'whitelisted';
}

export interface TermSets {
  readonly blacklist: readonly BlacklistTerm[];
  readonly graylist: readonly GraylistTerm[];
  readonly whitelist: ReadonlySet<string>;
}

const PATIENT_NAME_KEYWORDS = new Set(['PatientName', 'OtherPatientNames', 'PatientBirthName']);

export function kindOfIdentifier(keyword: string, vr: string): FiducialKind {
  if (vr === 'PN') return PATIENT_NAME_KEYWORDS.has(keyword) ? 'PATIENT NAME' : 'PERSON NAME';
  if (/Telephone|Phone/i.test(keyword)) return 'PHONE';
  if (/Address/i.test(keyword)) return 'ADDRESS';
  if (/Institution|Department|Organization|Facility/i.test(keyword)) return 'INSTITUTION';
  if (vr === 'DA' || vr === 'DT') return 'DATE';
  return 'ID';
}

function codePoints(s: string): number {
  return Array.from(s).length;
}

class Builder {
  readonly blacklist: BlacklistTerm[] = [];
  readonly graylist: GraylistTerm[] = [];
  private entity = 0;
  private readonly seen = new Set<string>();

  constructor(readonly whitelist: ReadonlySet<string>) {}

  private black(kind: FiducialKind, term: string, match: MatchMode, entity: number): void {
    const key = `${match}\0${term}\0${entity}`;
    if (term === '' || this.seen.has(key)) return;
    this.seen.add(key);
    this.blacklist.push({ kind, term, match, entity });
  }

  private gray(kind: FiducialKind, token: string, entity: number, why: GraylistTerm['why']): void {
    const key = `gray\0${token}\0${entity}`;
    if (token === '' || this.seen.has(key)) return;
    this.seen.add(key);
    this.graylist.push({ kind, token, entity, why });
  }

  /** A single word: blacklisted unless it is one character (or one CJK character) or a whitelisted word. */
  private word(kind: FiducialKind, w: string, entity: number, minLength: number): void {
    if (codePoints(w) < (CJK.test(w) ? 2 : minLength)) this.gray(kind, w, entity, 'short');
    else if (this.whitelist.has(w)) this.gray(kind, w, entity, 'whitelisted');
    else this.black(kind, w, 'phrase', entity);
  }

  add(keyword: string, vr: string, rawValue: string): void {
    const kind = kindOfIdentifier(keyword, vr);
    for (const value of rawValue.split('\\')) {
      if (value.trim() === '') continue;
      const entity = ++this.entity;
      switch (kind) {
        case 'PATIENT NAME':
        case 'PERSON NAME': {
          const pn = personNameParts(value);
          for (const p of pn.parts) {
            if (tokens(p).length > 1) this.black(kind, p, 'phrase', entity);
            else this.word(kind, p, entity, 2);
          }
          for (const f of pn.fullForms) {
            if (tokens(f).length > 1) this.black(kind, f, 'phrase', entity);
            else this.word(kind, f, entity, 2);
          }
          for (const i of pn.initials) this.gray(kind, i, entity, 'initial');
          break;
        }
        case 'ID':
        case 'PHONE': {
          const alnum = normalizeTerm(value).replace(/[^\p{L}\p{N}]/gu, '');
          const min = kind === 'PHONE' ? 6 : 4;
          if (codePoints(alnum) >= min) this.black(kind, alnum, 'alnum', entity);
          else this.gray(kind, alnum, entity, 'short');
          break;
        }
        case 'ADDRESS':
        case 'INSTITUTION': {
          const norm = normalizeTerm(value);
          if (tokens(norm).length > 0) this.black(kind, norm, 'phrase', entity);
          for (const segment of norm.split(/[\^\n\r,;]/)) {
            const ts = tokens(segment);
            if (ts.length > 1) this.black(kind, segment.trim(), 'phrase', entity);
            // Each word alone too (street, town, the distinctive word of an institution's name), except
            // medical or generic words (whitelist: "hospital", "clinic") and short ones.
            for (const t of ts) {
              if (/^\p{N}+$/u.test(t)) {
                if (t.length >= 5) this.black(kind, t, 'alnum', entity); // postal codes; house numbers are not identifying alone
              } else this.word(kind, t, entity, kind === 'ADDRESS' ? 3 : 4);
            }
          }
          break;
        }
        case 'DATE':
          // Every date is scrubbed by pattern (date-patterns.ts); the value adds nothing.
          break;
      }
    }
  }
}

export interface TermSetOptions {
  /** default: config/deid/whitelist.txt */
  readonly whitelist?: ReadonlySet<string>;
}

export function buildTermSets(inspect: InspectIdentifiers, reportText?: string, options: TermSetOptions = {}): TermSets {
  const b = new Builder(options.whitelist ?? loadWhitelist());
  b.add('PatientName', 'PN', inspect.patient.name);
  b.add('PatientID', 'LO', inspect.patient.id);
  for (const id of inspect.patient.otherIds) b.add('OtherPatientIDs', 'LO', id);
  b.add('AccessionNumber', 'SH', inspect.accessionNumber);
  for (const i of inspect.identifiers) b.add(i.keyword, i.vr, i.value);
  if (reportText !== undefined) for (const i of reportIdentifiers(reportText)) b.add(i.keyword, i.vr, i.value);
  return { blacklist: b.blacklist, graylist: b.graylist, whitelist: b.whitelist };
}
