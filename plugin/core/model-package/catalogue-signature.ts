/**
 * The signed catalogue (central-api SignedCatalogue): the registry signs the
 * exact payload text, so a site verifies bytes, never a re-serialisation.
 * Central signs with the registry key; a site verifies with the registry
 * public key it was configured with out of band.
 */
import { createPublicKey, sign, verify } from 'node:crypto';

import type { Catalogue, SignedCatalogue } from '../central-api';
import { ModelError } from './model-error';
import { keyId } from './package-signature';

const PREFIX = 'orthanc-ai-bridge catalogue v1\n';

function message(payload: string): Buffer {
  return Buffer.from(`${PREFIX}${payload}`, 'utf8');
}

export function signCatalogue(catalogue: Catalogue, registryPrivateKeyPem: string): SignedCatalogue {
  const privateKey = { key: registryPrivateKeyPem, format: 'pem' as const };
  const payload = JSON.stringify(catalogue);
  return { payload, keyId: keyId(createPublicKey(privateKey)), signature: sign(null, message(payload), privateKey).toString('base64') };
}

/**
 * The catalogue inside `signed` when its signature verifies with the registry
 * public key; throws AIB_MODEL_UNTRUSTED_KEY (another key) or
 * AIB_MODEL_SIGNATURE_INVALID (bytes changed, not a catalogue).
 */
export function verifyCatalogue(signed: SignedCatalogue, registryPublicKeyPem: string): Catalogue {
  const key = createPublicKey(registryPublicKeyPem);
  if (signed.keyId !== keyId(key))
    throw new ModelError('AIB_MODEL_UNTRUSTED_KEY', `catalogue is signed by key ${signed.keyId}, not by the configured registry key ${keyId(key)}`, { keyId: signed.keyId });
  if (!verify(null, message(signed.payload), key, Buffer.from(signed.signature, 'base64')))
    throw new ModelError('AIB_MODEL_SIGNATURE_INVALID', 'catalogue payload does not match its signature', { keyId: signed.keyId });
  const catalogue = JSON.parse(signed.payload) as Partial<Catalogue>;
  if (catalogue.format !== 'orthanc-ai-bridge catalogue v1' || !Array.isArray(catalogue.models))
    throw new ModelError('AIB_MODEL_SIGNATURE_INVALID', 'signed payload is not a catalogue of this project', { keyId: signed.keyId });
  return catalogue as Catalogue;
}
