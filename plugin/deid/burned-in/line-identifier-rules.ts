import type { TermSets } from '../text';
import { identifierRule, type IdentifierRuleOptions } from './identifier-rules';
import type { Recognised } from './ocr/ctc-decode';
import type { PixelBox } from './text-regions';

/**
 * The detector splits a line at wide spaces ("Karlsson   Anna" in a monospaced
 * font becomes two regions), and neither half alone looks like a name. Read
 * regions on one line (overlapping vertically, gaps under two line heights)
 * are joined left to right; when the joined text matches an identifier rule,
 * every region of the line gets that rule.
 */
export function lineIdentifierRules<B extends PixelBox>(boxes: readonly B[], readings: ReadonlyMap<B, Recognised | undefined>, terms: TermSets, o: IdentifierRuleOptions): Map<B, string> {
  const read = boxes.filter((b) => (readings.get(b)?.text ?? '').trim() !== '').sort((a, b) => a.x - b.x);
  const lines: B[][] = [];
  for (const b of read) {
    const line = lines.find((l) => {
      const last = l[l.length - 1];
      if (last === undefined) return false;
      const overlap = Math.min(last.y + last.height, b.y + b.height) - Math.max(last.y, b.y);
      return overlap >= 0.5 * Math.min(last.height, b.height) && b.x - (last.x + last.width) <= 2 * Math.max(last.height, b.height);
    });
    if (line === undefined) lines.push([b]);
    else line.push(b);
  }
  const out = new Map<B, string>();
  for (const line of lines) {
    if (line.length < 2) continue;
    const rule = identifierRule(line.map((b) => readings.get(b)?.text ?? '').join(' '), terms, o);
    if (rule !== undefined) for (const b of line) out.set(b, rule);
  }
  return out;
}
