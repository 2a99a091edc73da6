/**
 * Text is compared in one normalized form: NFKD (so "é" = "e" + accent,
 * full-width "ＪＯＨＮ" = "JOHN"), lower case, combining marks removed. Each
 * code point is normalized on its own so every normalized UTF-16 unit can be
 * traced back to the code point it came from: hits are reported, and replaced,
 * in the original text.
 */

// Letters NFKD does not decompose but writers spell out in ASCII ("Straße" = "Strasse", "Søren" = "Soren").
const FOLD: Readonly<Record<string, string>> = { ß: 'ss', ẞ: 'ss', æ: 'ae', Æ: 'ae', œ: 'oe', Œ: 'oe', ø: 'o', Ø: 'o', ł: 'l', Ł: 'l', đ: 'd', Đ: 'd', ð: 'd', Ð: 'd', þ: 'th', Þ: 'th', ı: 'i' };

export function normalizeCodePoint(cp: string): string {
  return (FOLD[cp] ?? cp).normalize('NFKD').toLowerCase().replace(/\p{M}/gu, '');
}

/** The normalized form of a term (same transformation as the text). */
export function normalizeTerm(s: string): string {
  let out = '';
  for (const cp of s) out += normalizeCodePoint(cp);
  return out;
}

export interface NormalizedText {
  readonly norm: string;
  /** for each UTF-16 unit of `norm`: start (in the original) of the code point it came from */
  readonly start: readonly number[];
  /** for each UTF-16 unit of `norm`: end (in the original) of the code point it came from */
  readonly end: readonly number[];
}

export function normalizeWithMap(text: string): NormalizedText {
  let norm = '';
  const start: number[] = [];
  const end: number[] = [];
  let offset = 0;
  for (const cp of text) {
    const n = normalizeCodePoint(cp);
    for (let i = 0; i < n.length; i++) {
      start.push(offset);
      end.push(offset + cp.length);
    }
    norm += n;
    offset += cp.length;
  }
  return { norm, start, end };
}

/** Han, Hiragana, Katakana, Hangul: scripts written without spaces between words, matched as substrings. */
export const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** Word tokens of normalized text. */
export function tokens(norm: string): string[] {
  return norm.match(/[\p{L}\p{N}]+/gu) ?? [];
}
