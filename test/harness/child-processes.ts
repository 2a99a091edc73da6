import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';

import { AiBridgeError } from '../../plugin/core/ai-bridge-error';

/** Live (not zombie) child processes of this test process whose command line contains `script`. */
export function childrenRunning(script: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid || fields[0] === 'Z') return [];
      return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(script) ? [Number(e)] : [];
    } catch {
      return [];
    }
  });
}

/** The AiBridgeError a request is refused with; fails the test when it is answered. */
export async function refusal(promise: Promise<unknown>): Promise<AiBridgeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AiBridgeError, String(error));
    return error;
  }
  assert.fail('the request was answered');
}
