/**
 * The medical vocabulary that is never scrubbed on its own
 * (config/deid/whitelist.txt: one term per line, "#" starts a comment).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { normalizeTerm } from './normalize';

export const WHITELIST_FILE = 'whitelist.txt';

export function parseWhitelist(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const term = normalizeTerm(line.replace(/#.*/, '').trim());
    if (term !== '') out.add(term);
  }
  return out;
}

function defaultWhitelistFile(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'config', 'deid', WHITELIST_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no config/deid/${WHITELIST_FILE} above ${__dirname}`);
  }
}

let cached: ReadonlySet<string> | undefined;

/** The committed whitelist (read once per process), or the one in `file`. */
export function loadWhitelist(file?: string): ReadonlySet<string> {
  if (file !== undefined) return parseWhitelist(readFileSync(file, 'utf8'));
  cached ??= parseWhitelist(readFileSync(defaultWhitelistFile(), 'utf8'));
  return cached;
}
