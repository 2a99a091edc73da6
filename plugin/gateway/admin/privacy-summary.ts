import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { CENTRAL_TRAFFIC_FILE } from '../../core/central-api';
import type { PrivacyResponse } from '../../core/admin-api';
import type { AuditLog } from '../audit-log';

const DEID_CONFIG = join(__dirname, '..', '..', '..', '..', 'config', 'deid');


interface ProfileDocument {
  readonly profiles: Readonly<Record<string, { readonly description?: string; readonly options?: readonly string[]; readonly maxAgeYears?: number }>>;
}

/** The Privacy page: the active profile, the term lists, the audit log's size, and what left for the central server. */
export function privacySummary(profileName: string, audit: AuditLog, dataDirectory: string): PrivacyResponse {
  const profiles = JSON.parse(readFileSync(join(DEID_CONFIG, 'profiles.json'), 'utf8')) as ProfileDocument;
  const profile = profiles.profiles[profileName];
  return {
    profile: {
      name: profileName,
      description: profile?.description ?? '',
      options: profile?.options ?? [],
      maxAgeYears: profile?.maxAgeYears ?? null,
    },
    termLists: termLists(),
    audit: { entries: audit.count(), bytes: audit.sizeBytes() },
    central: centralTraffic(join(dataDirectory, 'central', CENTRAL_TRAFFIC_FILE)),
  };
}

/** Every *.txt term list in config/deid: terms are the lines that are neither blank nor a "#" comment. */
function termLists(): PrivacyResponse['termLists'] {
  return readdirSync(DEID_CONFIG).filter((f) => f.endsWith('.txt')).sort().map((name) => ({
    name: name.replace(/\.txt$/, ''),
    terms: readFileSync(join(DEID_CONFIG, name), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).length,
  }));
}

function centralTraffic(path: string): PrivacyResponse['central'] {
  const none = { bytesSent: 0, requests: 0, lastAt: null, source: `${path} (absent: nothing sent)` };
  if (!existsSync(path)) return none;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const number = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
    return {
      bytesSent: number(value['bytesSent']), requests: number(value['requests']),
      lastAt: typeof value['lastAt'] === 'string' ? value['lastAt'] : null, source: path,
    };
  } catch {
    return { ...none, source: `${path} (unreadable)` };
  }
}
