/**
 * Whether a verified catalogue may replace the one this site accepted last:
 * it must be issued to this site (a catalogue is filtered by entitlement, so
 * another site's copy lists other models), not expired, not issued in the
 * future beyond clock skew, and not older than the accepted one. The serial
 * orders changes: lower is a replay; equal is only a re-issue (same models,
 * issuedAt not older) that renews the expiry; higher is news.
 */
import { createHash } from 'node:crypto';

import type { Catalogue } from '../../core/central-api';
import { CentralLinkError } from './central-link-error';

/** Clocks of the site and the central server may disagree by this much. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** What the site keeps of the catalogue it accepted last. */
export interface AcceptedCatalogue {
  readonly serial: number;
  /** null: accepted before catalogues carried freshness (only the serial was kept). */
  readonly issuedAt: string | null;
  /** sha256 of the models list as signed (JSON), to tell a re-issue from a changed list under one serial. */
  readonly modelsSha256: string | null;
}

export function modelsDigest(catalogue: Catalogue): string {
  return createHash('sha256').update(JSON.stringify(catalogue.models)).digest('hex');
}

function instant(value: unknown, name: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_INVALID', `the central catalogue is refused: ${name} is not an ISO 8601 instant`);
  return ms;
}

/** Throws CentralLinkError (WRONG_SITE, STALE, REPLAYED, INVALID); returns what to remember when the catalogue is accepted. */
export function checkCatalogueFreshness(catalogue: Catalogue, siteId: string, accepted: AcceptedCatalogue | null, now: number): AcceptedCatalogue {
  if (catalogue.siteId !== siteId)
    throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_WRONG_SITE', `the central catalogue was issued to site ${JSON.stringify(catalogue.siteId)}, not to this site (AiBridge.Central.SiteId ${siteId}): refused`, { siteId: catalogue.siteId });
  const issuedAt = instant(catalogue.issuedAt, 'issuedAt');
  const expiresAt = instant(catalogue.expiresAt, 'expiresAt');
  if (expiresAt <= issuedAt) throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_INVALID', 'the central catalogue is refused: it expires before it was issued');
  if (expiresAt <= now)
    throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_STALE', `the central catalogue (serial ${String(catalogue.serial)}) expired at ${catalogue.expiresAt}: refused`, { serial: catalogue.serial });
  if (issuedAt > now + CLOCK_SKEW_MS)
    throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_STALE', `the central catalogue says it was issued at ${catalogue.issuedAt}, in this site's future: refused (check both clocks)`, { serial: catalogue.serial });
  const digest = modelsDigest(catalogue);
  const next: AcceptedCatalogue = { serial: catalogue.serial, issuedAt: catalogue.issuedAt, modelsSha256: digest };
  if (accepted === null) return next;
  if (catalogue.serial < accepted.serial)
    throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_REPLAYED',
      `the central catalogue has serial ${String(catalogue.serial)}, lower than ${String(accepted.serial)} already accepted: refused as a replay`, { serial: catalogue.serial });
  if (accepted.issuedAt !== null && issuedAt < Date.parse(accepted.issuedAt))
    throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_REPLAYED',
      `the central catalogue was issued at ${catalogue.issuedAt}, before the one already accepted (${accepted.issuedAt}): refused as a replay`, { serial: catalogue.serial });
  if (catalogue.serial === accepted.serial && accepted.modelsSha256 !== null && digest !== accepted.modelsSha256)
    throw new CentralLinkError('AIB_CENTRAL_CATALOGUE_REPLAYED',
      `the central catalogue has the serial ${String(catalogue.serial)} already accepted but lists other models: refused (a change must raise the serial)`, { serial: catalogue.serial });
  return next;
}
