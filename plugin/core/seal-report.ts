/**
 * What the kernel applied in one sandboxed process (native/addon/seal.cpp),
 * as the process reports it to the gateway and `/ai-bridge/health` shows it.
 */
export interface SealReport {
  readonly noNewPrivs: boolean;
  /** The seccomp filter is on every thread. */
  readonly seccomp: boolean;
  /** 'enforced': every thread; 'partial': all but Node's start-up threads (no TSYNC below ABI 8); 'unsupported': no Landlock. */
  readonly landlock: 'enforced' | 'partial' | 'unsupported';
  /** Landlock ABI version the kernel reported, 0 without Landlock. */
  readonly landlockAbi: number;
  /** Reads and writes are limited to the process's folders. */
  readonly fsRestricted: boolean;
  /** 'none': no socket; 'tcp-ports': TCP connect to the configured ports only; 'tcp-any': TCP to any port (no Landlock ABI 4). */
  readonly network: 'none' | 'tcp-ports' | 'tcp-any';
  /** Landlock scopes in force ('abstract-unix-socket', 'signal'). */
  readonly scoped: readonly string[];
  /** Threads that run outside the Landlock domain (Node's start-up threads below ABI 8), still under seccomp. */
  readonly threadsOutsideLandlock: number;
  /** Kernel features this machine lacks, each with what is therefore not refused. */
  readonly missing: readonly string[];
}

/** The roles of the sandboxed processes. */
export type SealedRole = 'deid-worker' | 'annotator' | 'uplink';

/**
 * A sandboxed process takes work only with the layers the privacy promise
 * needs: no_new_privs, seccomp, Landlock's file rules, and for the uplink
 * Landlock's TCP port rule (without it the uplink could reach Orthanc's REST
 * port). Scopes and TSYNC are reported when missing, not required. Returns
 * the reason a report is refused, or undefined.
 */
export function sealShortfall(role: SealedRole, report: SealReport): string | undefined {
  if (!report.noNewPrivs) return 'no_new_privs is not set';
  if (!report.seccomp) return 'no seccomp filter';
  if (!report.fsRestricted) return `file access is not restricted (Landlock ABI ${String(report.landlockAbi)})`;
  if (role === 'uplink' && report.network !== 'tcp-ports') return 'TCP connections are not limited to the central server\'s port (Landlock ABI < 4)';
  if (role !== 'uplink' && report.network !== 'none') return 'sockets are allowed';
  return undefined;
}
