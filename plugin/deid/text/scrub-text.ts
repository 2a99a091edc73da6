/**
 * The second pass over one text value: every blacklist hit (any case, accents
 * folded, name parts in any order, initials next to a name) and every date or
 * telephone number becomes a typed fiducial; whitelisted words alone are never
 * touched. Returns where the hits were (kind, offset, length in the input),
 * never what they were.
 */
import { digitCount, datePattern, phonePattern } from './date-patterns';
import { shiftTextDate } from './shift-text-date';
import { fiducial, strongerKind, type FiducialKind } from './fiducial';
import { CJK, normalizeWithMap, tokens } from './normalize';
import type { TermSets } from './term-sets';

export interface ScrubHit {
  readonly kind: FiducialKind;
  /** UTF-16 offset in the input text */
  readonly offset: number;
  /** UTF-16 length in the input text */
  readonly length: number;
}

export interface ScrubResult {
  readonly text: string;
  readonly hits: readonly ScrubHit[];
}

interface TermInfo {
  kind: FiducialKind;
  readonly entities: Set<number>;
}

interface Compiled {
  readonly phrase: RegExp | null;
  readonly alnum: RegExp | null;
  readonly phraseInfo: ReadonlyMap<string, TermInfo>;
  readonly alnumInfo: ReadonlyMap<string, TermInfo>;
  readonly gray: ReadonlyMap<string, TermInfo>;
}

interface Span {
  start: number;
  end: number;
  kind: FiducialKind;
  entities: Set<number>;
}

const compiledCache = new WeakMap<TermSets, Compiled>();

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Key under which a phrase term and a phrase match are compared: its words joined by one space (CJK: as is). */
function phraseKey(s: string): string {
  return CJK.test(s) ? s.replace(/\s+/g, '') : tokens(s).join(' ');
}

function alnumKey(s: string): string {
  return s.replace(/[^\p{L}\p{N}]/gu, '');
}

function note(map: Map<string, TermInfo>, key: string, kind: FiducialKind, entity: number): void {
  const info = map.get(key);
  if (info === undefined) map.set(key, { kind, entities: new Set([entity]) });
  else {
    info.kind = strongerKind(info.kind, kind);
    info.entities.add(entity);
  }
}

function compile(terms: TermSets): Compiled {
  const cached = compiledCache.get(terms);
  if (cached !== undefined) return cached;
  const phraseInfo = new Map<string, TermInfo>();
  const alnumInfo = new Map<string, TermInfo>();
  const gray = new Map<string, TermInfo>();
  const latin: string[] = [];
  const cjk: string[] = [];
  const alnum: string[] = [];
  for (const t of terms.blacklist) {
    if (t.match === 'phrase') {
      const key = phraseKey(t.term);
      if (key === '') continue;
      if (!phraseInfo.has(key)) {
        if (CJK.test(key)) cjk.push(escape(key));
        else latin.push(tokens(key).map(escape).join("[\\s,.'’-]+"));
      }
      note(phraseInfo, key, t.kind, t.entity);
    } else {
      const key = alnumKey(t.term);
      if (key === '') continue;
      if (!alnumInfo.has(key)) alnum.push(Array.from(key, escape).join('[-\\s./()+]?')); // code points: separators may sit between any two
      note(alnumInfo, key, t.kind, t.entity);
    }
  }
  for (const g of terms.graylist) note(gray, g.token, g.kind, g.entity);
  const byLength = (a: string, b: string): number => b.length - a.length;
  const parts: string[] = [];
  if (latin.length > 0) parts.push(`(?<![\\p{L}\\p{N}])(?:${latin.sort(byLength).join('|')})(?![\\p{L}\\p{N}])`);
  if (cjk.length > 0) parts.push(`(?:${cjk.sort(byLength).join('|')})`);
  const compiled: Compiled = {
    phrase: parts.length > 0 ? new RegExp(parts.join('|'), 'gu') : null,
    alnum: alnum.length > 0 ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${alnum.sort(byLength).join('|')})(?![\\p{L}\\p{N}])`, 'gu') : null,
    phraseInfo,
    alnumInfo,
    gray,
  };
  compiledCache.set(terms, compiled);
  return compiled;
}

function collect(norm: string, terms: TermSets, c: Compiled): Span[] {
  const spans: Span[] = [];
  const push = (start: number, end: number, kind: FiducialKind, entities: Set<number> = new Set()): void => {
    if (end > start) spans.push({ start, end, kind, entities: new Set(entities) });
  };
  if (c.phrase !== null) {
    for (const m of norm.matchAll(c.phrase)) {
      const key = phraseKey(m[0]);
      const info = c.phraseInfo.get(key);
      // Safety net: a single whitelisted word never counts as a hit on its own.
      if (info === undefined || (!key.includes(' ') && terms.whitelist.has(key))) continue;
      push(m.index, m.index + m[0].length, info.kind, info.entities);
    }
  }
  if (c.alnum !== null) {
    for (const m of norm.matchAll(c.alnum)) {
      const info = c.alnumInfo.get(alnumKey(m[0]));
      if (info !== undefined) push(m.index, m.index + m[0].length, info.kind, info.entities);
    }
  }
  for (const m of norm.matchAll(datePattern())) push(m.index, m.index + m[0].length, 'DATE');
  for (const m of norm.matchAll(phonePattern())) {
    const n = digitCount(m[0]);
    if (n >= 9 && n <= 15) push(m.index, m.index + m[0].length, 'PHONE');
  }
  return spans;
}

/** Overlapping spans become one, named by the stronger kind. */
function mergeOverlaps(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
      last.kind = strongerKind(last.kind, s.kind);
      for (const e of s.entities) last.entities.add(e);
    } else out.push({ ...s, entities: new Set(s.entities) });
  }
  return out;
}

const JOIN = /^[\s,.'’-]*$/u;

/** Graylist tokens next to a hit of the same entity join it ("J. Smith", "Smith J", "J R Smith"), repeatedly. */
function absorbGray(norm: string, spans: Span[], gray: ReadonlyMap<string, TermInfo>): Span[] {
  if (gray.size === 0 || spans.length === 0) return spans;
  const candidates = [...norm.matchAll(/[\p{L}\p{N}]+/gu)].filter((m) => gray.has(m[0]));
  let current = mergeOverlaps(spans);
  for (let changed = true; changed; ) {
    changed = false;
    for (const m of candidates) {
      const start = m.index;
      const end = start + m[0].length;
      const info = gray.get(m[0]);
      if (info === undefined || current.some((s) => s.start <= start && s.end >= end)) continue;
      const shares = (s: Span): boolean => [...s.entities].some((e) => info.entities.has(e));
      const neighbour = current.find(
        (s) => shares(s) && ((s.end <= start && JOIN.test(norm.slice(s.end, start))) || (s.start >= end && JOIN.test(norm.slice(end, s.start)))),
      );
      if (neighbour === undefined) continue;
      // The new span covers the separator too, so "J. Smith" becomes one hit.
      current.push({ start: Math.min(start, neighbour.start), end: Math.max(end, neighbour.end), kind: neighbour.kind, entities: new Set(info.entities) });
      current = mergeOverlaps(current);
      changed = true;
    }
  }
  return current;
}

/** Hits of the same kind separated only by spaces or commas make one fiducial ("Smith, John" → one). */
function mergeAdjacent(norm: string, spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && last.kind === s.kind && /^[ \t,]*$/.test(norm.slice(last.end, s.start))) last.end = s.end;
    else out.push(s);
  }
  return out;
}

/** `dateShiftDays`: a date found is moved by this many days in its own form instead of becoming `% DATE %` when it names one day (issue 16). */
export interface ScrubOptions {
  readonly dateShiftDays?: number;
}

export function scrubText(text: string, terms: TermSets, options: ScrubOptions = {}): ScrubResult {
  if (text === '') return { text, hits: [] };
  const { norm, start, end } = normalizeWithMap(text);
  const c = compile(terms);
  const spans = mergeAdjacent(norm, absorbGray(norm, mergeOverlaps(collect(norm, terms, c)), c.gray));
  let out = '';
  let pos = 0;
  const hits: ScrubHit[] = [];
  for (const s of spans) {
    const a = start[s.start] ?? text.length;
    const b = end[s.end - 1] ?? text.length;
    if (a < pos) continue; // cannot happen after merging; guards the output against overlap
    const shifted = s.kind === 'DATE' && options.dateShiftDays !== undefined ? shiftTextDate(text.slice(a, b), options.dateShiftDays) : undefined;
    out += text.slice(pos, a) + (shifted ?? fiducial(s.kind));
    hits.push({ kind: s.kind, offset: a, length: b - a });
    pos = b;
  }
  out += text.slice(pos);
  return { text: out, hits };
}
