/**
 * Does text read from pixels identify someone? The header's second pass
 * (scrubText: blacklist terms of this instance, dates, telephone numbers) plus
 * what OCR needs on top: readings with one wrong character, digits misread as
 * letters, and graylist rules for identifiers the header does not know (IDs,
 * name-like word pairs, screen labels such as "DOB:"). Returns the rule that
 * fired, never the text.
 */
import { FIDUCIAL_KINDS, scrubText, type FiducialKind, type TermSets } from '../text';
import { normalizeTerm } from '../text/normalize';

export interface IdentifierRuleOptions {
  readonly idMinDigits: number;
  /** lower case */
  readonly labels: ReadonlySet<string>;
}

function kindRule(kind: FiducialKind): string {
  if (kind === 'DATE') return 'graylist:date';
  if (kind === 'PHONE') return 'graylist:phone';
  return `blacklist:${kind.toLowerCase().replace(/ /g, '-')}`;
}

// OCR confuses these with digits; inside a word that is mostly digits they are read as the digit.
const AS_DIGIT: Readonly<Record<string, string>> = { O: '0', o: '0', D: '0', Q: '0', I: '1', l: '1', '|': '1', i: '1', Z: '2', z: '2', S: '5', s: '5', B: '8', G: '6', b: '6', g: '9', q: '9', T: '7' };

/** `text` with letters inside mostly-digit words read as digits ("0OO47431395" → "00047431395"). */
export function digitReading(text: string): string {
  return text.replace(/[\p{L}\p{N}|]+/gu, (w) => {
    const digits = w.replace(/\D/g, '').length;
    return digits * 2 >= w.length ? Array.from(w, (c) => AS_DIGIT[c] ?? c).join('') : w;
  });
}

/** Levenshtein distance, stopping early above `max`. */
export function editDistanceAtMost(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return false;
    prev = row;
  }
  return (prev[b.length] ?? max + 1) <= max;
}

/** Edits tolerated for a term of this many characters: none below 5, one up to 9, two above. */
function tolerance(length: number): number {
  return length < 5 ? 0 : length < 10 ? 1 : 2;
}

/** A blacklist term read with a character or two wrong: whole words for names, any stretch of letters and digits for IDs. */
function approximateBlacklist(text: string, terms: TermSets): FiducialKind | undefined {
  const norm = normalizeTerm(text);
  const words = norm.match(/[\p{L}\p{N}]+/gu) ?? [];
  const alnum = norm.replace(/[^\p{L}\p{N}]/gu, '');
  let found: FiducialKind | undefined;
  const note = (kind: FiducialKind): void => {
    if (found === undefined || FIDUCIAL_KINDS.indexOf(kind) < FIDUCIAL_KINDS.indexOf(found)) found = kind;
  };
  for (const t of terms.blacklist) {
    const term = t.term.replace(/[^\p{L}\p{N}]/gu, '');
    const max = tolerance(term.length);
    if (max === 0 || terms.whitelist.has(t.term)) continue;
    if (t.match === 'phrase' && !/\s/.test(t.term.trim())) {
      if (words.some((w) => editDistanceAtMost(w, term, max))) note(t.kind);
    } else {
      // Multi-word phrases and IDs: OCR drops and merges separators, so compare letters and digits only.
      for (let start = 0; start + term.length - max <= alnum.length; start++) {
        let hit = false;
        for (let len = term.length - max; len <= term.length + max && !hit; len++) {
          if (start + len <= alnum.length && editDistanceAtMost(alnum.slice(start, start + len), term, max)) hit = true;
        }
        if (hit) {
          note(t.kind);
          break;
        }
      }
    }
  }
  return found;
}

const MONTH = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*';
// Screen forms the text pass does not need: 03-Dec-2019, 03DEC2019, Dec-03-2019, 2019.Dec.03.
const SCREEN_DATES = [
  new RegExp(`(?<![a-z0-9])\\d{1,2}[-/. ]?${MONTH}[-/. ]?\\d{2,4}(?![a-z0-9])`, 'u'),
  new RegExp(`(?<![a-z])${MONTH}[-/. ]?\\d{1,2}[-/. ,]+\\d{2,4}(?![a-z0-9])`, 'u'),
  new RegExp(`(?<![a-z0-9])\\d{4}[-/. ]?${MONTH}[-/. ]?\\d{1,2}(?![a-z0-9])`, 'u'),
];

/** The first identifier rule `text` matches, or undefined. */
export function identifierRule(text: string, terms: TermSets, o: IdentifierRuleOptions): string | undefined {
  for (const variant of new Set([text, digitReading(text)])) {
    const hits = scrubText(variant, terms).hits;
    if (hits.length > 0) return kindRule(hits.map((h) => h.kind).reduce((a, b) => (FIDUCIAL_KINDS.indexOf(a) <= FIDUCIAL_KINDS.indexOf(b) ? a : b)));
  }
  const approximate = approximateBlacklist(text, terms) ?? approximateBlacklist(digitReading(text), terms);
  if (approximate !== undefined) return `${kindRule(approximate)}:approximate`;
  const lower = normalizeTerm(digitReading(text));
  const plain = normalizeTerm(text);
  if (SCREEN_DATES.some((r) => r.test(plain) || r.test(lower))) return 'graylist:date';
  for (const word of text.split(/[\s/:;,=()[\]]+/u)) {
    // A decimal number is a measurement, not an ID: count the digits before the decimal mark only.
    const integral = /^\d+[.,]\d{1,3}$/.test(word) ? word.replace(/[.,]\d+$/, '') : word;
    const digits = integral.replace(/\D/g, '').length;
    if (digits >= o.idMinDigits) return 'graylist:id';
    if (word.length >= 6 && digits >= 3 && /\p{L}/u.test(word)) return 'graylist:id';
  }
  const words = lower.match(/\p{L}+/gu) ?? [];
  if (words.some((w) => o.labels.has(w))) return 'graylist:label';
  // "SMITH, JOHN", "Smith^John": the way screens write a person's name.
  if (/\p{L}{2,}\s*[,^]\s*\p{L}{2,}/u.test(text)) return 'graylist:name';
  // Two capitalised words in a row that are not medical vocabulary: a first and a last name, or a place.
  const capitalised = text.split(/\s+/).map((w) => /^\p{Lu}[\p{L}'-]+$/u.test(w) && !terms.whitelist.has(normalizeTerm(w)));
  if (capitalised.some((c, i) => c && capitalised[i + 1] === true)) return 'graylist:name';
  return undefined;
}
