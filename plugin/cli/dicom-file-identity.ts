import { spawn } from 'node:child_process';

export const DCMDUMP_BINARY = '/usr/bin/dcmdump';

export interface DicomFileIdentity {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string | undefined;
  /** Implicit VR little endian when the file has no meta header: DCMTK then reads and sends it so. */
  readonly transferSyntaxUid: string;
}

const TAGS = ['0002,0002', '0002,0003', '0002,0010', '0008,0016', '0008,0018'];

/**
 * SOP class, SOP instance and transfer syntax of each file, read with DCMTK's
 * dcmdump in one process for the whole list (the CLI sends with DCMTK too, so
 * both agree on what a file is). undefined where dcmdump finds no SOP class.
 */
export async function readDicomFileIdentities(files: readonly string[]): Promise<(DicomFileIdentity | undefined)[]> {
  const args = ['-q', '-Un', '-M', '+F', ...TAGS.flatMap((t) => ['+P', t]), ...files];
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn(DCMDUMP_BINARY, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', reject);
    child.once('close', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
  const out: (DicomFileIdentity | undefined)[] = files.map(() => undefined);
  let index = -1;
  let found = new Map<string, string>();
  const flush = (): void => {
    const sopClassUid = found.get('0002,0002') ?? found.get('0008,0016');
    if (index >= 0 && index < out.length && sopClassUid !== undefined) {
      out[index] = {
        sopClassUid,
        sopInstanceUid: found.get('0008,0018') ?? found.get('0002,0003'),
        transferSyntaxUid: found.get('0002,0010') ?? '1.2.840.10008.1.2',
      };
    }
  };
  for (const line of text.split('\n')) {
    const header = /^# dcmdump \((\d+)\/\d+\)/.exec(line);
    if (header) {
      flush();
      index = Number(header[1]) - 1;
      found = new Map();
      continue;
    }
    const element = /^\((\d{4},\d{4})\) UI \[([0-9.]+)\]/.exec(line);
    if (element?.[1] !== undefined && element[2] !== undefined && !found.has(element[1])) {
      found.set(element[1], element[2]);
    }
  }
  flush();
  return out;
}
