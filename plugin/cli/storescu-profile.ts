import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDicomFileIdentities } from './dicom-file-identity.js';

const UNCOMPRESSED = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.2'];
// PS3.8 9.3.2.2: an association carries at most 128 presentation contexts (odd ids 1..255).
const MAX_CONTEXTS = 128;

/**
 * Writes a storescu association profile (-xf FILE Files) proposing, for every
 * SOP class present, each file's own transfer syntax plus the uncompressed
 * ones. storescu's built-in proposals are uncompressed only, so without this
 * a JPEG, JPEG 2000 or RLE file fails ("DIMSE Failed to send message") since
 * DCMTK cannot transcode it. Returns undefined when the 128-context limit
 * would be exceeded (storescu's defaults are then used).
 */
export async function writeStorescuProfile(files: readonly string[], dir: string): Promise<string | undefined> {
  const syntaxes = await readDicomFileIdentities(files);
  const bySop = new Map<string, Set<string>>();
  for (const s of syntaxes) {
    if (s === undefined) continue;
    const set = bySop.get(s.sopClassUid) ?? new Set<string>();
    if (!UNCOMPRESSED.includes(s.transferSyntaxUid)) set.add(s.transferSyntaxUid);
    bySop.set(s.sopClassUid, set);
  }
  const contexts: string[] = [];
  const tsSections = new Map<string, string>([['Uncompressed', UNCOMPRESSED.join('\\')]]);
  for (const [sop, compressed] of bySop) {
    contexts.push(`${sop}\\Uncompressed`);
    for (const ts of compressed) {
      const name = `TS_${ts.replace(/\./g, '_')}`;
      tsSections.set(name, ts);
      contexts.push(`${sop}\\${name}`);
    }
  }
  if (contexts.length === 0 || contexts.length > MAX_CONTEXTS) return undefined;
  const lines = ['[[TransferSyntaxes]]'];
  for (const [name, list] of tsSections) {
    lines.push(`[${name}]`, ...list.split('\\').map((ts, i) => `TransferSyntax${i + 1} = ${ts}`));
  }
  lines.push('[[PresentationContexts]]', '[Files]', ...contexts.map((c, i) => `PresentationContext${i + 1} = ${c}`));
  lines.push('[[Profiles]]', '[Files]', 'PresentationContexts = Files');
  const file = path.join(dir, 'storescu.cfg');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
