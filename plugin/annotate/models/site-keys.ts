/**
 * The keys a site trusts for model packages (docs/models.md "Trust"):
 *  - models/keys/site-author.key (0600) + .pub: created on first use; the site
 *    signs the packages it builds from this repository with it, so they go
 *    through the same verification as any other package;
 *  - models/keys/trusted/*.pub: keys added later (e.g. the central registry's).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ModelError } from './model-error';
import { keygen, type KeyPairPem } from './package-signature';

const PRIVATE = 'site-author.key';
const PUBLIC = 'site-author.pub';
const TRUSTED = 'trusted';

export function keysDirectory(modelsDir: string): string {
  return join(modelsDir, 'keys');
}

/** The site author key pair, created (private key mode 0600) on first use. */
export function siteAuthorKey(modelsDir: string): KeyPairPem {
  const dir = keysDirectory(modelsDir);
  const privatePath = join(dir, PRIVATE);
  const publicPath = join(dir, PUBLIC);
  if (!existsSync(privatePath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = keygen();
    // 'wx': two processes racing to create the key must not overwrite each other's.
    writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    chmodSync(privatePath, 0o600);
    writeFileSync(publicPath, pair.publicKeyPem, { mode: 0o644 });
    return pair;
  }
  const mode = statSync(privatePath).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new ModelError('AIB_MODEL_KEY_INSECURE', `${privatePath} is readable by group or others (mode ${mode.toString(8)}); refused`, { file: privatePath });
  return { privateKeyPem: readFileSync(privatePath, 'utf8'), publicKeyPem: readFileSync(publicPath, 'utf8') };
}

/** Public keys this site trusts: its author key (when created) and every models/keys/trusted/*.pub. */
export function trustedKeys(modelsDir: string): string[] {
  const dir = keysDirectory(modelsDir);
  const keys: string[] = [];
  if (existsSync(join(dir, PUBLIC))) keys.push(readFileSync(join(dir, PUBLIC), 'utf8'));
  const trustedDir = join(dir, TRUSTED);
  if (existsSync(trustedDir)) {
    for (const name of readdirSync(trustedDir).sort()) if (name.endsWith('.pub')) keys.push(readFileSync(join(trustedDir, name), 'utf8'));
  }
  return keys;
}

/** Adds a public key (PEM) to models/keys/trusted/<name>.pub. */
export function addTrustedKey(modelsDir: string, name: string, publicKeyPem: string): void {
  if (!/^[a-z0-9-]+$/.test(name)) throw new ModelError('AIB_MODEL_UNTRUSTED_KEY', `trusted key name "${name}" must be lower-case letters, digits and dashes`);
  const dir = join(keysDirectory(modelsDir), TRUSTED);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, `${name}.pub`), publicKeyPem, { mode: 0o644 });
}
