/**
 * Typed access to the kernel seal (native/addon/seal.cpp) shared by the three
 * sandboxed processes: the de-identification worker, the annotator and the
 * uplink. Each calls `sealProcess` once, before it takes any work, with the
 * folders its role needs (see `sealPlan` for who gets what).
 *
 * What the seal does (README "Threat model" measures it):
 * - no_new_privs, then seccomp on every thread (TSYNC): no socket can be
 *   created (`socket`, `socketpair` → EACCES), connected, bound or accepted,
 *   except, for the uplink, AF_INET/AF_INET6 TCP client sockets; `sendmsg`,
 *   `recvmsg` (and the mmsg forms) → EPERM, so no descriptor is passed in or
 *   out (SCM_RIGHTS); io_uring → ENOSYS; execve → EACCES; ptrace,
 *   process_vm_*, pidfd_getfd, kcmp, bpf, perf_event_open, keyrings,
 *   userfaultfd → EPERM; a foreign-ABI syscall kills the process.
 * - Refuses to seal while the process holds a socket other than a connected
 *   AF_UNIX one, or an io_uring instance.
 * - Landlock: reads only beneath `readablePaths`, writes only beneath
 *   `writablePaths` (and /dev/null), nothing executed; TCP bind refused and
 *   connect allowed only to `tcpConnectPorts` (ABI >= 4); signals and abstract
 *   UNIX sockets scoped to the process (ABI >= 6). Below ABI 8 (no TSYNC) the
 *   Landlock domain covers the sealing thread and all it starts later; the
 *   seal refuses if any thread started after the addon loaded (libuv's pool,
 *   onnxruntime), so only Node's start-up V8 threads stay outside Landlock
 *   (`threadsOutsideLandlock`), under seccomp.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error';
import type { SealReport } from '../core/seal-report';

export type { SealReport } from '../core/seal-report';

export interface SealOptions {
  /** Absolute paths (directories or files) beneath which reads stay allowed. */
  readonly readablePaths: readonly string[];
  /** Absolute paths beneath which reads, writes, creation and removal stay allowed. */
  readonly writablePaths: readonly string[];
  /** Absent: no socket at all. Present: TCP client sockets, connecting only to these ports. */
  readonly tcpConnectPorts?: readonly number[];
}

interface SealAddon {
  seal(options: { writablePaths: string[]; readablePaths: string[]; tcpConnectPorts?: number[] }): unknown;
  sealStatus(): unknown;
}

/** dist/plugin/seal → <repo>/build/Release. */
export const ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'Release', 'aibridge_addon.node');

let addon: SealAddon | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Loads the addon, which notes the threads running now (Node's start-up
 * threads). Entry points call it first, before any asynchronous work starts
 * another thread the seal would have to refuse.
 */
export function loadSealAddon(): void {
  loadAddon();
}

function loadAddon(): SealAddon {
  if (addon) return addon;
  // createRequire shares Node's module cache: the addon is loaded once per process
  // whoever asks for it first.
  const loaded: unknown = createRequire(__filename)(ADDON_PATH);
  if (!isRecord(loaded) || typeof loaded.seal !== 'function' || typeof loaded.sealStatus !== 'function') {
    throw new AiBridgeError('AIB_SEAL_FAILED', `${ADDON_PATH} does not export seal/sealStatus`);
  }
  const seal = loaded.seal;
  const status = loaded.sealStatus;
  addon = {
    seal: (options): unknown => Reflect.apply(seal, loaded, [options]),
    sealStatus: (): unknown => Reflect.apply(status, loaded, []),
  };
  return addon;
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

function toReport(value: unknown): SealReport {
  if (isRecord(value)) {
    const { noNewPrivs, seccomp, landlock, landlockAbi, fsRestricted, network, threadsOutsideLandlock } = value;
    const scoped = strings(value.scoped);
    const missing = strings(value.missing);
    if (typeof noNewPrivs === 'boolean' && typeof seccomp === 'boolean' && typeof landlockAbi === 'number' && typeof fsRestricted === 'boolean' &&
      (landlock === 'enforced' || landlock === 'partial' || landlock === 'unsupported') &&
      (network === 'none' || network === 'tcp-ports' || network === 'tcp-any') &&
      typeof threadsOutsideLandlock === 'number' && scoped !== undefined && missing !== undefined) {
      return { noNewPrivs, seccomp, landlock, landlockAbi, fsRestricted, network, scoped, threadsOutsideLandlock, missing };
    }
  }
  throw new AiBridgeError('AIB_SEAL_FAILED', 'the addon answered a malformed seal report');
}

/**
 * Seals this process (see the module comment). Idempotent: a second call
 * returns the first report and changes nothing. Throws AiBridgeError
 * `AIB_SEAL_FAILED` (message with the errno text); after a throw the process
 * may be partly sealed and must exit.
 */
export function sealProcess(options: SealOptions): SealReport {
  const native = loadAddon();
  try {
    return toReport(native.seal({
      writablePaths: [...options.writablePaths], readablePaths: [...options.readablePaths],
      ...(options.tcpConnectPorts === undefined ? {} : { tcpConnectPorts: [...options.tcpConnectPorts] }),
    }));
  } catch (error: unknown) {
    if (error instanceof AiBridgeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const errno = isRecord(error) && typeof error.errno === 'number' ? error.errno : null;
    throw new AiBridgeError('AIB_SEAL_FAILED', message, { errno });
  }
}

/** What the kernel applied so far; all false/empty before sealing. */
export function sealStatus(): SealReport {
  return toReport(loadAddon().sealStatus());
}
