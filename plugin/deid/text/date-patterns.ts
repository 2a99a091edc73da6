/**
 * Dates in the forms reports and descriptions use, matched on normalized text
 * (lower case, accents removed, full-width digits folded to ASCII). Every date
 * is an identifier element under HIPAA Safe Harbor except the year alone, so
 * any day or month precision date becomes `% DATE %`, not only known ones.
 */
const MONTHS = [
  // English, with abbreviations
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
  // French and German (accents are removed by normalization: fevrier, aout, decembre, marz)
  'janvier', 'fevrier', 'mars', 'avril', 'mai', 'juin', 'juillet', 'aout', 'septembre', 'octobre', 'novembre', 'decembre',
  'januar', 'februar', 'marz', 'juni', 'juli', 'oktober', 'dezember',
].sort((a, b) => b.length - a.length);

const B = '(?<![\\p{L}\\p{N}])';
const E = '(?![\\p{L}\\p{N}])';
const YEAR = '(?:19|20)\\d{2}';
const MM = '(?:0?[1-9]|1[0-2])';
const DD = '(?:0?[1-9]|[12]\\d|3[01])';
const MONTH = `(?:${MONTHS.join('|')})\\.?`;
const ORD = '(?:st|nd|rd|th|er)?';

const FORMS = [
  // DICOM DA / DT: 20190304, 20190304120000.000000+0100
  `${YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])(?:\\d{2,6}(?:\\.\\d{1,6})?)?(?:[+-]\\d{4})?`,
  // ISO and its slashes/dots: 2019-03-04, 2019/3/4
  `${YEAR}[-/.]${MM}[-/.]${DD}`,
  // day-month-year or month-day-year, 4-digit year: 04/03/2019, 4.3.2019, 04-03-2019
  `${DD}[-/.]${DD}[-/.]${YEAR}`,
  // two-digit year with slashes only (1.2.19 is more often a version than a date): 04/03/19
  `${DD}/${DD}/\\d{2}`,
  // 4 March 2019, 4th of March, 2019, 4 mars 2019
  `${DD}${ORD}\\s+(?:of\\s+)?${MONTH},?\\s+${YEAR}`,
  // March 4, 2019; Mar 4th 2019
  `${MONTH}\\s+${DD}${ORD},?\\s+${YEAR}`,
  // March 2019, 4 March (month precision is still more than the year)
  `${MONTH}\\s+${YEAR}`,
  `${DD}${ORD}\\s+(?:of\\s+)?${MONTH}`,
  // 2019年3月4日
  `${YEAR}\\s*年\\s*${MM}\\s*月(?:\\s*${DD}\\s*日)?`,
];

/** One global, Unicode regex over normalized text; longer forms are listed first. */
export function datePattern(): RegExp {
  return new RegExp(`${B}(?:${FORMS.join('|')})${E}`, 'gu');
}

/**
 * Telephone numbers not known from the header: an optional +country code,
 * groups of digits separated by space, dot, dash or parentheses, 9 to 15 digits
 * in all (E.164 allows 15; below 9 digits the pattern would take measurements).
 */
export function phonePattern(): RegExp {
  return /(?<![\p{L}\p{N}.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){2,5}(?![\p{L}\p{N}]|\.\d)/gu;
}

export function digitCount(s: string): number {
  return s.replace(/\D/g, '').length;
}
