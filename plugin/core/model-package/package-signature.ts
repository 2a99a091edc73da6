/**
 * Detached ed25519 signatures of model packages. The signed payload binds the
 * sha256 of manifest.json and of model.onnx; the manifest in turn carries the
 * sha256 of every commissioning input, so a change to any byte of the package
 * breaks verification.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseManifest } from './load-manifest';
import { ModelError } from './model-error';
import type { ModelManifest } from './model-manifest';

export const MANIFEST_FILE = 'manifest.json';
export const MODEL_FILE = 'model.onnx';
export const SIGNATURE_FILE = 'signature.ed25519';
const PAYLOAD_HEADER = 'orthanc-ai-bridge model package v1';
const SIGNATURE_FORMAT = 'orthanc-ai-bridge ed25519 v1';

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

interface SignatureFile {
  readonly format: string;
  readonly keyId: string;
  readonly signature: string;
}

export function keygen(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** First 32 hex digits of the sha256 of the public key (SPKI DER): names the key in signature files. */
export function keyId(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function readPackageFile(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name));
  } catch {
    throw new ModelError('AIB_MODEL_FILE_MISSING', `${join(dir, name)} is missing or unreadable`, { package: dir, file: name });
  }
}

function payload(manifest: Uint8Array, model: Uint8Array): Buffer {
  return Buffer.from(`${PAYLOAD_HEADER}\n${MANIFEST_FILE} sha256 ${sha256Hex(manifest)}\n${MODEL_FILE} sha256 ${sha256Hex(model)}\n`, 'utf8');
}

/** Writes signature.ed25519 into `dir` over its manifest.json and model.onnx. */
export function signPackage(dir: string, privateKeyPem: string): void {
  writeFileSync(join(dir, SIGNATURE_FILE), signatureFileText(readPackageFile(dir, MANIFEST_FILE), readPackageFile(dir, MODEL_FILE), privateKeyPem));
}

/** The text of signature.ed25519 for these manifest and model bytes (a package built in memory). */
export function signatureFileText(manifest: Uint8Array, model: Uint8Array, privateKeyPem: string): string {
  const privateKey = { key: privateKeyPem, format: 'pem' as const };
  const file: SignatureFile = {
    format: SIGNATURE_FORMAT,
    keyId: keyId(createPublicKey(privateKey)),
    signature: sign(null, payload(manifest, model), privateKey).toString('base64'),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

function parseSignatureText(text: string, file: string, label: string): SignatureFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as Partial<SignatureFile> | undefined;
  if (v?.format !== SIGNATURE_FORMAT || typeof v.keyId !== 'string' || typeof v.signature !== 'string')
    throw new ModelError('AIB_MODEL_SIGNATURE_INVALID', `${file} is not a signature file of this project`, { package: label });
  return v as SignatureFile;
}

export interface VerifiedPackage {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly model: Buffer;
  readonly keyId: string;
  /** The trusted key that verified the signature (SPKI PEM). */
  readonly publicKeyPem: string;
}

/**
 * Verifies the signature with one of the trusted public keys, then the
 * manifest (schema) and the commissioning inputs (their sha256 in the signed
 * manifest). Throws ModelError: AIB_MODEL_FILE_MISSING, AIB_MODEL_UNTRUSTED_KEY,
 * AIB_MODEL_SIGNATURE_INVALID, AIB_MODEL_MANIFEST_INVALID.
 */
export function verifyPackage(dir: string, trustedPublicKeys: readonly string[]): VerifiedPackage {
  const verified = verifyPackageFiles(dir, (name) => readPackageFile(dir, name), trustedPublicKeys);
  return { ...verified, dir };
}

/**
 * The same checks over files held anywhere (a folder, an uploaded archive):
 * `read` returns a file's bytes or throws AIB_MODEL_FILE_MISSING. `label`
 * names the package in messages.
 */
export function verifyPackageFiles(label: string, read: (name: string) => Buffer, trustedPublicKeys: readonly string[]): VerifiedPackage {
  const manifestBytes = read(MANIFEST_FILE);
  const model = read(MODEL_FILE);
  const signature = parseSignatureText(read(SIGNATURE_FILE).toString('utf8'), join(label, SIGNATURE_FILE), label);
  const key = trustedPublicKeys.map((pem) => createPublicKey(pem)).find((k) => keyId(k) === signature.keyId);
  if (key === undefined)
    throw new ModelError('AIB_MODEL_UNTRUSTED_KEY', `${label} is signed by key ${signature.keyId}, which is not trusted here`, { package: label, keyId: signature.keyId });
  if (!verify(null, payload(manifestBytes, model), key, Buffer.from(signature.signature, 'base64')))
    throw new ModelError('AIB_MODEL_SIGNATURE_INVALID', `${label}: manifest.json or model.onnx does not match its signature`, { package: label, keyId: signature.keyId });
  const manifest = parseManifest(manifestBytes.toString('utf8'), join(label, MANIFEST_FILE));
  for (const c of manifest.commissioning.cases) {
    if (sha256Hex(read(c.input)) !== c.sha256)
      throw new ModelError('AIB_MODEL_SIGNATURE_INVALID', `${join(label, c.input)} does not match its sha256 in the signed manifest`, { package: label, file: c.input });
  }
  return { dir: label, manifest, model, keyId: signature.keyId, publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString() };
}
