/**
 * Typed access to the kernel seal of the de-identification worker
 * (native/addon/seal.cpp). The worker calls `sealProcess` before it reads any
 * PHI and exits if it throws.
 *
 * What the seal does:
 * - seccomp on every thread (TSYNC): `socket()`/`socketpair()` with any domain
 *   but AF_UNIX fail with EACCES (so no AF_INET/AF_INET6/AF_PACKET/AF_NETLINK/
 *   AF_VSOCK socket, hence no TCP, UDP, DNS or fetch); `io_uring_setup` fails
 *   with ENOSYS; `ptrace`, `process_vm_readv/writev`, `pidfd_getfd` fail with
 *   EPERM; a syscall through a foreign ABI kills the process. Inherited by
 *   every child process.
 * - Refuses to seal (throws) if the process already holds a non-AF_UNIX socket
 *   or an io_uring instance.
 * - Landlock where the kernel has it: file-system writes only beneath
 *   `writablePaths` (and /dev/null); TCP bind/connect refused on ABI >= 4.
 *   Reads are not restricted: `readablePaths` is validated and reserved for a
 *   later tightening. Before Landlock ABI 8 (no LANDLOCK_RESTRICT_SELF_TSYNC)
 *   the Landlock domain covers the calling thread and what it creates later
 *   (libuv's thread pool if it starts after the seal, child processes), not
 *   threads that already ran: `landlock: 'partial'`. The network rule does not
 *   depend on Landlock; seccomp covers all threads.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error.js';

export type LandlockState = 'enforced' | 'partial' | 'unsupported';

export interface SealReport {
  readonly seccomp: boolean;
  readonly landlock: LandlockState;
  /** Landlock ABI version the kernel reported, 0 without Landlock. */
  readonly landlockAbi: number;
}

export interface SealOptions {
  /** Absolute paths (directories or files) beneath which writes stay allowed. */
  readonly writablePaths: readonly string[];
  /** Absolute paths; accepted and validated, not enforced yet (reads stay allowed). */
  readonly readablePaths: readonly string[];
}

interface SealAddon {
  seal(options: { writablePaths: string[]; readablePaths: string[] }): unknown;
  sealStatus(): unknown;
}

/** dist/plugin/deid → <repo>/build/Release. */
export const ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'Release', 'aibridge_addon.node');

let addon: SealAddon | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function loadAddon(): SealAddon {
  if (addon) return addon;
  // createRequire shares Node's module cache: the addon is loaded once per process
  // whoever asks for it first.
  const loaded: unknown = createRequire(__filename)(ADDON_PATH);
  if (!isRecord(loaded) || typeof loaded.seal !== 'function' || typeof loaded.sealStatus !== 'function') {
    throw new AiBridgeError('AIB_DEID_SEAL_FAILED', `${ADDON_PATH} does not export seal/sealStatus`);
  }
  const seal = loaded.seal;
  const status = loaded.sealStatus;
  addon = {
    seal: (options): unknown => Reflect.apply(seal, loaded, [options]),
    sealStatus: (): unknown => Reflect.apply(status, loaded, []),
  };
  return addon;
}

function toReport(value: unknown): SealReport {
  if (
    isRecord(value) &&
    typeof value.seccomp === 'boolean' &&
    (value.landlock === 'enforced' || value.landlock === 'partial' || value.landlock === 'unsupported') &&
    typeof value.landlockAbi === 'number'
  ) {
    return { seccomp: value.seccomp, landlock: value.landlock, landlockAbi: value.landlockAbi };
  }
  throw new AiBridgeError('AIB_DEID_SEAL_FAILED', 'the addon answered a malformed seal report');
}

/**
 * Seals this process (see the module comment). Idempotent: a second call
 * returns the first report and changes nothing. Throws AiBridgeError
 * `AIB_DEID_SEAL_FAILED` (message with the errno text); after a throw the
 * process may be partly sealed and must exit.
 */
export function sealProcess(options: SealOptions): SealReport {
  const native = loadAddon();
  try {
    return toReport(native.seal({ writablePaths: [...options.writablePaths], readablePaths: [...options.readablePaths] }));
  } catch (error: unknown) {
    if (error instanceof AiBridgeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const errno = isRecord(error) && typeof error.errno === 'number' ? error.errno : null;
    throw new AiBridgeError('AIB_DEID_SEAL_FAILED', message, { errno });
  }
}

/** What the kernel applied so far; `{ seccomp: false, landlock: 'unsupported', landlockAbi: 0 }` before sealing. */
export function sealStatus(): SealReport {
  return toReport(loadAddon().sealStatus());
}
