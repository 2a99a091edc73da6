import { spawnSync } from 'node:child_process';

export interface DciodvfyReport {
  readonly errors: string[];
  readonly warnings: string[];
  readonly output: string;
}

/** dicom3tools' IOD checker; its findings are the "Error -" and "Warning -" lines. */
export function dciodvfy(file: string): DciodvfyReport {
  const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  if (run.error !== undefined) throw run.error;
  const output = `${run.stdout}${run.stderr}`;
  const lines = output.split('\n');
  return {
    errors: lines.filter((line) => line.startsWith('Error')),
    warnings: lines.filter((line) => line.startsWith('Warning')),
    output,
  };
}

/** DCMTK's presentation state checker: passes when it says so and exits 0. */
export function dcmpschk(file: string): { passed: boolean; output: string } {
  const run = spawnSync('dcmpschk', [file], { encoding: 'utf8' });
  if (run.error !== undefined) throw run.error;
  const output = `${run.stdout}${run.stderr}`;
  return { passed: run.status === 0 && /Test passed/.test(output) && !/Test failed/.test(output), output };
}

/** An 8-bit P5 PGM as dcmp2pgm writes it. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Buffer;
  at(column: number, row: number): number;
}

export function parsePgm(bytes: Buffer): GrayImage {
  // Header: "P5" width height maxval, separated by whitespace (comments not written by dcmp2pgm), then one whitespace byte.
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(bytes.subarray(0, 64).toString('latin1'));
  if (header === null) throw new Error('not a binary PGM');
  const width = Number(header[1]);
  const height = Number(header[2]);
  const pixels = bytes.subarray(header[0].length, header[0].length + width * height);
  return { width, height, pixels, at: (column, row) => pixels[row * width + column] ?? -1 };
}

/** dcmp2pgm renders `image` as displayed, through `presentationState` when given. */
export function dcmp2pgm(image: string, output: string, presentationState?: string): void {
  const args = [...(presentationState === undefined ? [] : ['-p', presentationState]), image, output];
  const run = spawnSync('dcmp2pgm', args, { encoding: 'utf8' });
  if (run.error !== undefined) throw run.error;
  if (run.status !== 0) throw new Error(`dcmp2pgm ${args.join(' ')} exited ${String(run.status)}: ${run.stderr}`);
}
