/**
 * A DICOM PN value (PS3.5 6.2.1): up to three component groups separated by
 * "=" (alphabetic, ideographic, phonetic), each of up to five components
 * separated by "^": family, given, middle, prefix, suffix. Prefix and suffix
 * ("Dr", "Jr", "MD") are not identifying and are left out.
 */
import { CJK, normalizeTerm, tokens } from './normalize';

export interface PersonNameParts {
  /** normalized name parts: every family/given/middle component and each word of it */
  readonly parts: readonly string[];
  /** normalized full forms: "given family", "family given", "given middle family" … per group */
  readonly fullForms: readonly string[];
  /** normalized initials: single letters, and "js" / "sj" / "jrs" combinations */
  readonly initials: readonly string[];
}

function uniq(xs: Iterable<string>): string[] {
  return [...new Set([...xs].filter((x) => x.length > 0))];
}

export function personNameParts(value: string): PersonNameParts {
  const parts: string[] = [];
  const fullForms: string[] = [];
  const initials: string[] = [];
  // A PN from free text (report header) has no carets: treat "John R. Smith" as given…family.
  for (const group of value.split('=')) {
    const comps = group.includes('^') ? group.split('^').slice(0, 3) : [group];
    const norm = comps.map((c) => normalizeTerm(c).trim().replace(/\s+/g, ' '));
    const [family = '', given = '', middle = ''] = group.includes('^') ? norm : [norm[0] ?? '', '', ''];
    for (const c of norm) {
      parts.push(c);
      if (!CJK.test(c)) parts.push(...tokens(c));
    }
    if (family !== '' && given !== '') {
      const sep = CJK.test(family + given) ? '' : ' ';
      fullForms.push(
        [given, middle, family].filter(Boolean).join(sep),
        [family, given, middle].filter(Boolean).join(sep),
        `${given}${sep}${family}`,
        `${family}${sep}${given}`,
      );
    } else if (family !== '') {
      fullForms.push(family);
    }
    // Initials of Latin names only: one letter per word of given, middle, family.
    const letters = (s: string): string[] => (CJK.test(s) ? [] : tokens(s).map((t) => t[0] ?? ''));
    const g = letters(given);
    const m = letters(middle);
    const f = letters(family);
    initials.push(...g, ...m, ...f);
    if (g.length > 0 && f.length > 0) initials.push([...g, ...f].join(''), [...f, ...g].join(''), [...g, ...m, ...f].join(''));
  }
  return { parts: uniq(parts), fullForms: uniq(fullForms), initials: uniq(initials) };
}
