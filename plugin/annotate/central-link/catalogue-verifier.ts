/**
 * Checks a SignedCatalogue: the registry signature over the exact payload
 * text (ed25519, the registry public key configured out of band), its form,
 * then its freshness (catalogue-freshness.ts: this site's, not expired, not
 * older than the accepted one; a replayed old catalogue could otherwise bring
 * back a withdrawn version).
 */
import { createPublicKey } from 'node:crypto';

import type { Catalogue, CatalogueEntry, SignedCatalogue } from '../../core/central-api';
import { verifyCatalogue } from '../../core/model-package';
import { checkCatalogueFreshness, type AcceptedCatalogue } from './catalogue-freshness';
import { CentralLinkError } from './central-link-error';

const FORMAT = 'orthanc-ai-bridge catalogue v1';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): CentralLinkError {
  return new CentralLinkError('AIB_CENTRAL_CATALOGUE_INVALID', `the central catalogue is refused: ${message}`);
}

function isEntry(value: unknown): value is CatalogueEntry {
  if (!isRecord(value)) return false;
  const author = value['author'];
  return typeof value['id'] === 'string' && typeof value['version'] === 'string' && typeof value['manifestSha256'] === 'string' &&
    typeof value['modelSha256'] === 'string' && isRecord(author) && typeof author['keyId'] === 'string' && typeof author['publicKeyPem'] === 'string';
}

export class CatalogueVerifier {
  readonly #pem: string;

  constructor(registryPublicKeyPem: string) {
    const key = createPublicKey(registryPublicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') throw invalid('the configured registry key is not an ed25519 public key');
    this.#pem = registryPublicKeyPem;
  }

  /** The verified catalogue and what to remember of it; throws CentralLinkError (INVALID, WRONG_SITE, STALE, REPLAYED). */
  verify(body: Buffer, siteId: string, accepted: AcceptedCatalogue | null, now: number = Date.now()): { catalogue: Catalogue; accepted: AcceptedCatalogue } {
    let signed: unknown;
    try {
      signed = JSON.parse(body.toString('utf8'));
    } catch {
      throw invalid('the body is not JSON');
    }
    if (!isRecord(signed) || typeof signed['payload'] !== 'string' || typeof signed['keyId'] !== 'string' || typeof signed['signature'] !== 'string')
      throw invalid('not a signed catalogue (payload, keyId, signature)');
    let catalogue: Catalogue;
    try {
      catalogue = verifyCatalogue(signed as unknown as SignedCatalogue, this.#pem);
    } catch (error) {
      throw invalid(error instanceof Error ? error.message : String(error));
    }
    if (!Number.isInteger(catalogue.serial) || typeof catalogue.siteId !== 'string' || !catalogue.models.every(isEntry))
      throw invalid(`the payload is not a "${FORMAT}"`);
    return { catalogue, accepted: checkCatalogueFreshness(catalogue, siteId, accepted, now) };
  }
}
