/**
 * A date written in a report, moved by the patient's date shift and written
 * back in the same form (issue 16: the report's dates move with its images'
 * dates instead of becoming `% DATE %`). Only a date that names a day without
 * doubt is shifted: DICOM DA/DT, year-first numeric dates, day-first dotted
 * dates, slashed or dashed dates whose day is above 12, and day-month-year
 * written with a month name (English, French, German). A month or a day
 * without a year, a two-digit year, or 03/04/2019 (which of March or April?)
 * answer undefined and stay fiducials.
 */
const FULL: readonly (readonly string[])[] = [
  ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
  ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
  ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
];

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\.$/, '');
}

interface Day { readonly y: number; readonly m: number; readonly d: number }

function moved(day: Day, days: number): Day | undefined {
  const at = new Date(Date.UTC(day.y, day.m - 1, day.d));
  if (at.getUTCFullYear() !== day.y || at.getUTCMonth() !== day.m - 1 || at.getUTCDate() !== day.d) return undefined; // 31 February
  at.setUTCDate(at.getUTCDate() + days);
  return { y: at.getUTCFullYear(), m: at.getUTCMonth() + 1, d: at.getUTCDate() };
}

/** The number as the original wrote it: zero-padded when it was. */
function like(original: string, value: number): string {
  return String(value).padStart(original.length >= 2 ? 2 : 1, '0');
}

function sameCase(original: string, word: string): string {
  if (original === original.toUpperCase() && original !== original.toLowerCase()) return word.toUpperCase();
  const first = original.charAt(0);
  return first === first.toUpperCase() ? word.charAt(0).toUpperCase() + word.slice(1) : word.charAt(0).toLowerCase() + word.slice(1);
}

function numeric(text: string, days: number): string | undefined {
  const dicom = /^((?:19|20)\d{2})(\d{2})(\d{2})(.*)$/.exec(text);
  if (dicom !== null && /^(?:\d{2,6}(?:\.\d{1,6})?)?(?:[+-]\d{4})?$/.test(dicom[4] ?? '')) {
    const to = moved({ y: Number(dicom[1]), m: Number(dicom[2]), d: Number(dicom[3]) }, days);
    return to === undefined ? undefined : `${String(to.y)}${like('00', to.m)}${like('00', to.d)}${dicom[4] ?? ''}`;
  }
  const yearFirst = /^((?:19|20)\d{2})([-/.])(\d{1,2})\2(\d{1,2})$/.exec(text);
  if (yearFirst !== null) {
    const [, y = '', sep = '', m = '', d = ''] = yearFirst;
    const to = moved({ y: Number(y), m: Number(m), d: Number(d) }, days);
    return to === undefined ? undefined : `${String(to.y)}${sep}${like(m, to.m)}${sep}${like(d, to.d)}`;
  }
  const yearLast = /^(\d{1,2})([-/.])(\d{1,2})\2((?:19|20)\d{2})$/.exec(text);
  if (yearLast === null) return undefined;
  const [, a = '', sep = '', b = '', y = ''] = yearLast;
  // Dots are day-first (European); a slash or dash is day-first only when the first number cannot be a month.
  const dayFirst = sep === '.' || Number(a) > 12;
  if (!dayFirst && Number(b) <= 12) return undefined;
  const [d, m] = dayFirst ? [a, b] : [b, a];
  const to = moved({ y: Number(y), m: Number(m), d: Number(d) }, days);
  if (to === undefined) return undefined;
  return dayFirst ? `${like(d, to.d)}${sep}${like(m, to.m)}${sep}${String(to.y)}` : `${like(m, to.m)}${sep}${like(d, to.d)}${sep}${String(to.y)}`;
}

function monthOf(word: string): { list: readonly string[]; month: number } | undefined {
  const key = fold(word);
  for (const list of FULL) {
    const i = list.findIndex((name) => fold(name) === key);
    if (i >= 0) return { list, month: i + 1 };
  }
  if (key === 'sept') return { list: FULL[1] ?? [], month: 9 };
  return undefined;
}

function written(text: string, days: number): string | undefined {
  // 4 March 2019, 4th of March, 2019 | March 4, 2019, Mar 4th 2019: the tokens are replaced where they stand.
  const dayFirst = /^(\d{1,2})(st|nd|rd|th|er)?(\s+(?:of\s+)?)(\p{L}+\.?)(,?\s+)((?:19|20)\d{2})$/u.exec(text);
  const monthFirst = /^(\p{L}+\.?)(\s+)(\d{1,2})(st|nd|rd|th|er)?(,?\s+)((?:19|20)\d{2})$/u.exec(text);
  const parts = dayFirst !== null
    ? { d: dayFirst[1] ?? '', word: dayFirst[4] ?? '', y: dayFirst[6] ?? '' }
    : monthFirst !== null ? { d: monthFirst[3] ?? '', word: monthFirst[1] ?? '', y: monthFirst[6] ?? '' } : undefined;
  if (parts === undefined) return undefined;
  const month = monthOf(parts.word);
  if (month === undefined) return undefined;
  const to = moved({ y: Number(parts.y), m: month.month, d: Number(parts.d) }, days);
  if (to === undefined) return undefined;
  const dot = parts.word.endsWith('.') ? '.' : '';
  const name = `${sameCase(parts.word, month.list[to.m - 1] ?? '')}${dot}`;
  // An ordinal suffix would have to change with the day (1st, 2nd): dropped.
  if (dayFirst !== null) return `${like(parts.d, to.d)}${dayFirst[3] ?? ''}${name}${dayFirst[5] ?? ''}${String(to.y)}`;
  return `${name}${monthFirst?.[2] ?? ''}${like(parts.d, to.d)}${monthFirst?.[5] ?? ''}${String(to.y)}`;
}

/** The date `text` shifted by `days` in its own form, or undefined when it does not name one day without doubt. */
export function shiftTextDate(text: string, days: number): string | undefined {
  const t = text.trim();
  if (t !== text || t === '') return undefined;
  return /^\d/.test(t) && !/\p{L}/u.test(t) ? numeric(t, days) : written(t, days);
}
