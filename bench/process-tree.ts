import * as fs from 'node:fs';

/**
 * A process and its descendants as /proc shows them now, with each one's
 * resident set: how the benches weigh a command or the plugin's gateway with
 * the worker processes it started (a process that exits while we look is
 * left out).
 */

export interface TreeProcess {
  readonly pid: number;
  readonly ppid: number;
  /** argv joined by spaces. */
  readonly command: string;
  /** VmRSS, kB (0 when unreadable). */
  readonly rssKb: number;
  /** Pss of /proc/<pid>/smaps_rollup, kB: shared pages divided among the processes sharing them (0 when unreadable; read by processTree only for the tree's members). */
  readonly pssKb: number;
  /** User + system CPU time the process has used so far, seconds (utime + stime of /proc/<pid>/stat). */
  readonly cpuS: number;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux the plugin supports). */
const CLOCK_TICKS = 100;

function pss(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function readProcess(pid: number): TreeProcess | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    // Fields 14 and 15 of stat (utime, stime), counted from the state field (3).
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '').join(' ');
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return { pid, ppid, command, rssKb: rss === undefined ? 0 : Number(rss), pssKb: 0, cpuS };
  } catch {
    return undefined;
  }
}

/** root first, then its descendants (breadth first). Empty when root is gone. */
export function processTree(root: number): TreeProcess[] {
  const all = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map((e) => readProcess(Number(e)))
    .filter((p): p is TreeProcess => p !== undefined);
  const top = all.find((p) => p.pid === root);
  if (top === undefined) return [];
  const tree = [top];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]?.pid;
    tree.push(...all.filter((p) => p.ppid === parent));
  }
  return tree.map((p) => ({ ...p, pssKb: pss(p.pid) }));
}

/**
 * Samples the summed RSS of root's tree every intervalMs until stopped;
 * `peakKb` is the largest sum seen (a sample, not the kernel's high-water
 * mark: a spike shorter than the interval can be missed).
 */
export class TreeRssSampler {
  readonly #root: number;
  readonly #timer: NodeJS.Timeout;
  peakKb = 0;

  constructor(root: number, intervalMs = 100) {
    this.#root = root;
    this.#timer = setInterval(() => { this.sample(); }, intervalMs);
  }

  sample(): number {
    const sum = processTree(this.#root).reduce((s, p) => s + p.rssKb, 0);
    this.peakKb = Math.max(this.peakKb, sum);
    return sum;
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.peakKb;
  }
}
