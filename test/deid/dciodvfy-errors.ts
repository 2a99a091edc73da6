import { spawnSync } from 'node:child_process';

/**
 * dciodvfy's Error lines, with the values taken out: what is left names the
 * problem, the attribute and the module, so an input error that only changed
 * value (a date, a UID) is still the same error.
 */
export function dciodvfyErrors(file: string): Set<string> {
  const run = spawnSync('dciodvfy', [file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => line.startsWith('Error'));
  return new Set(lines.map((line) => line
    .replace(/ = <[^>]*>/g, ' = <>')
    .replace(/Value=<[^>]*>/g, 'Value=<>')
    .replace(/\[\d+\]/g, '[]')
    // UIDs named in a message are remapped by design: the same error about another UID is the same error.
    .replace(/\b\d+(\.\d+)+\b/g, '<uid>')
    .replace(/\s+/g, ' ')
    .trim()));
}
