/**
 * What to do with one text region once it is read (or not): cover it as an
 * identifier, cover it as text, or keep it. Identifiers are covered in every
 * mode; mode all-text covers everything else too unless config keep allows
 * it; mode identifiers-only keeps what matches no rule but covers what it
 * could not read reliably, since an unreadable region may be a misread name.
 * A region in which the recogniser reads no character at all is taken as not
 * text, unless config recognition.emptyReadingIsText says otherwise.
 */
import type { TermSets } from '../text';
import type { BurnedInTextConfig } from './burned-in-text-config';
import { identifierRule } from './identifier-rules';
import type { BurnedInContext, CoverReason } from './text-regions';

export type RegionVerdict =
  | { readonly action: 'cover'; readonly reason: CoverReason; readonly rule: string }
  | { readonly action: 'keep'; readonly rule: string };

/** What the recogniser made of a region; undefined text: not read (too long to be kept, so covered unread). */
export interface RegionReading {
  readonly text?: string;
  readonly confidence: number;
}

export type DecisionConfig = Pick<BurnedInTextConfig, 'identifiers' | 'keep' | 'recognition'>;

/** The keep rule a whole reading matches ('keep:word', 'keep:<pattern>'), or undefined. */
export function keepRule(text: string, confidence: number, keep: BurnedInTextConfig['keep']): string | undefined {
  const t = text.trim();
  if (!keep.enabled || t === '' || confidence < keep.minConfidence) return undefined;
  if (keep.words.has(t)) return 'keep:word';
  const pattern = keep.patterns.find((p) => p.regex.test(t));
  return pattern === undefined ? undefined : `keep:${pattern.name}`;
}

export function decideRegion(reading: RegionReading, context: { readonly terms: TermSets; readonly mode: BurnedInContext['mode'] }, config: DecisionConfig): RegionVerdict {
  if (reading.text === undefined) return { action: 'cover', reason: 'text', rule: 'cover-all-text' };
  // The detector also fires on some anatomy (sinuses, bowel gas); where the recogniser reads no character at all
  // there is nothing a reader could read either, and covering it would take image content from the model.
  if (reading.text.trim() === '' && !config.recognition.emptyReadingIsText) return { action: 'keep', rule: 'no-text-read' };
  const id = identifierRule(reading.text, context.terms, config.identifiers);
  if (id !== undefined) return { action: 'cover', reason: 'identifier', rule: id };
  const keep = keepRule(reading.text, reading.confidence, config.keep);
  if (context.mode === 'all-text') return keep === undefined ? { action: 'cover', reason: 'text', rule: 'cover-all-text' } : { action: 'keep', rule: keep };
  if (reading.text.trim() === '' || reading.confidence < config.recognition.minConfidence) return { action: 'cover', reason: 'text', rule: 'unreadable' };
  return { action: 'keep', rule: keep ?? 'no-identifier' };
}
