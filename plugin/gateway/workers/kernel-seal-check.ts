import { readFileSync } from 'node:fs';

/**
 * The gateway's own look at a child's seal, independent of what the child
 * says: /proc/<pid>/status must show a seccomp filter (`Seccomp: 2`) and
 * no_new_privs (`NoNewPrivs: 1`). Returns the reason it does not, or undefined.
 */
export function kernelSealShortfall(pid: number): string | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  } catch {
    return `/proc/${String(pid)}/status cannot be read`;
  }
  if (!/^Seccomp:\s*2$/m.test(status)) return `/proc/${String(pid)}/status shows no seccomp filter`;
  if (!/^NoNewPrivs:\s*1$/m.test(status)) return `/proc/${String(pid)}/status shows no_new_privs off`;
  return undefined;
}
