/**
 * What this site gives to the central server's category requests, whatever
 * is asked (AiBridge.Central.CategoryRequestLimits): only listed categories,
 * each an exact Modality and Body Part Examined, at most StudiesPerRequest
 * studies per request and StudiesPerMonth per calendar month (UTC).
 */
import type { CategoryRequestLimits } from '../config-loader';

/**
 * A DICOM CS value (PS3.5 6.2: upper-case letters, digits, space, underscore;
 * 16 characters) with no leading or trailing space. This refuses every
 * C-FIND / QIDO-RS matching form that is not single-value matching: `*` and
 * `?` wildcards, `\` value lists, `,` (QIDO lists), `-` ranges, and an empty
 * or all-space value (universal matching, PS3.4 C.2.2.2.3).
 */
export const EXACT_CS_VALUE = /^[A-Z0-9_]([A-Z0-9_ ]{0,14}[A-Z0-9_])?$/;

export interface CategoryAsked {
  readonly modality: string;
  readonly bodyPart: string;
  readonly studiesWanted: number;
}

/** Why the site refuses a request outright (shown in the admin UI, reported as declined), or null. */
export function policyRefusal(request: CategoryAsked, limits: CategoryRequestLimits): string | null {
  if (!EXACT_CS_VALUE.test(request.modality) || !EXACT_CS_VALUE.test(request.bodyPart))
    return `the category ${JSON.stringify(request.modality)} / ${JSON.stringify(request.bodyPart)} is not an exact Modality and Body Part Examined (no wildcard, list, range or empty value is searched)`;
  if (!limits.Categories.some((c) => c.Modality === request.modality && c.BodyPart === request.bodyPart))
    return `${request.modality} ${request.bodyPart} is not in AiBridge.Central.CategoryRequestLimits.Categories`;
  if (!Number.isInteger(request.studiesWanted) || request.studiesWanted < 1) return `the request asks for ${String(request.studiesWanted)} studies`;
  return null;
}

/** Start of the calendar month (UTC) that holds `now`, in ms. */
export function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Studies a request may still take: what it asked, cut by the per-request and the month's remaining allowance. */
export function studiesAllowed(studiesWanted: number, limits: CategoryRequestLimits, usedThisMonth: number): number {
  return Math.max(0, Math.min(studiesWanted, limits.StudiesPerRequest, limits.StudiesPerMonth - usedThisMonth));
}
