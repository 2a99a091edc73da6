import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The valid DICOM files of the shared test-data collection: INDEX.tsv rows
 * whose dcmdump check passed, outside malformed/. Throws naming the directory
 * when it is missing (it is not part of a user's clone).
 */
export function validSharedFiles(dataDir: string): string[] {
  const index = path.join(dataDir, 'INDEX.tsv');
  if (!fs.existsSync(index)) {
    throw new Error(`no ${index}: pass --data-dir DIR pointing at the shared DICOM data (with INDEX.tsv)`);
  }
  const [headerLine, ...lines] = fs.readFileSync(index, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = (headerLine ?? '').split('\t');
  const pathCol = header.indexOf('path');
  const okCol = header.indexOf('dcmdump_ok');
  if (pathCol < 0 || okCol < 0) throw new Error(`${index} lacks the path or dcmdump_ok column`);
  return lines
    .map((l) => l.split('\t'))
    .filter((cells) => cells[okCol] === 'true' && !(cells[pathCol] ?? '').split('/').includes('malformed'))
    .map((cells) => path.join(dataDir, cells[pathCol] ?? ''))
    .filter((f) => fs.existsSync(f));
}
