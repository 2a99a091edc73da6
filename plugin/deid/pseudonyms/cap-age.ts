/**
 * Ages over the cap (HIPAA Safe Harbor: 89) become `${cap + 1}Y`, so "095Y" →
 * "090Y". An AS value (PS3.5 6.2) is three digits and a unit: D days, W weeks,
 * M months, Y years.
 */
const AS = /^(\d{3})([DWMY])$/;
const DAYS_PER_YEAR = 365.2425;

/**
 * Returns the value unchanged when it is a valid AS at or under the cap,
 * `${cap + 1}Y` (zero-padded) when over, and "" for anything that is not a
 * valid AS: a malformed age is not kept, since it may be free text.
 */
export function capAge(value: string, maxYears: number): string {
  if (!Number.isInteger(maxYears) || maxYears < 0 || maxYears > 998) throw new RangeError('capAge: maxYears must be an integer in 0..998');
  const m = AS.exec(value.trim());
  if (m === null) return '';
  const n = Number(m[1]);
  const unit = m[2];
  const years = unit === 'Y' ? n : unit === 'M' ? n / 12 : unit === 'W' ? (n * 7) / DAYS_PER_YEAR : n / DAYS_PER_YEAR;
  if (years <= maxYears) return `${m[1] ?? ''}${unit ?? ''}`;
  return `${String(maxYears + 1).padStart(3, '0')}Y`;
}
