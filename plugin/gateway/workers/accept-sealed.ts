import { kernelSealShortfall } from './kernel-seal-check';
import { PermanentRefusal } from './process-pool';

/** The init failures a restart cannot cure. */
const SEAL_CODES = new Set(['AIB_SEAL_FAILED', 'AIB_SEAL_INCOMPLETE']);

/**
 * The ready check every sandboxed pool shares. An `initFailed` reply with a
 * seal code, a ready reply whose seal misses what the role needs, or a
 * child whose /proc status shows no seccomp filter is refused for good: a
 * restart would fail the same way while jobs wait. Anything else goes to
 * the pool's own check (`accept`), whose reason string means "restart".
 */
export function acceptSealed<Ready>(header: Readonly<Record<string, unknown>>, pid: number,
  accept: (header: Readonly<Record<string, unknown>>) => Ready | string | PermanentRefusal): Ready | string | PermanentRefusal {
  const code = header['code'];
  if (header['k'] === 'initFailed' && typeof code === 'string' && SEAL_CODES.has(code)) {
    return new PermanentRefusal(`${code}: ${typeof header['message'] === 'string' ? header['message'] : ''}`);
  }
  const accepted = accept(header);
  if (typeof accepted === 'string' || accepted instanceof PermanentRefusal) return accepted;
  const kernel = kernelSealShortfall(pid);
  return kernel === undefined ? accepted : new PermanentRefusal(kernel);
}
