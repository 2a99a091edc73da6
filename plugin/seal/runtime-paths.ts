import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

/** dist/plugin/seal → the repository (or installed package) root. */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

/**
 * What any sealed Node process of the bridge reads after its seal: the Node
 * runtime and the shared libraries it loads lazily, time zones, and the
 * bridge's own code, addon, policy files and bundled models. Named folder by
 * folder, never the package root as a whole: a DataDirectory placed inside
 * it must stay out of reach. Missing paths are left out (Landlock needs an
 * open descriptor per rule).
 */
export function runtimeReadablePaths(): string[] {
  const candidates = [
    process.execPath,
    // ld.so and every library node or an addon may still dlopen (merged /usr: /lib is a link here).
    '/usr/lib', '/lib64',
    '/usr/share/zoneinfo', '/etc/localtime',
    // libuv's uv_available_parallelism / os.cpus(), onnxruntime's thread-pool sizing.
    '/proc/cpuinfo', '/proc/stat', '/proc/meminfo', '/sys/devices/system/cpu', '/sys/fs/cgroup',
    join(PACKAGE_ROOT, 'dist'), join(PACKAGE_ROOT, 'node_modules'), join(PACKAGE_ROOT, 'build', 'Release'),
    join(PACKAGE_ROOT, 'config'), join(PACKAGE_ROOT, 'model-packages'), join(PACKAGE_ROOT, 'package.json'),
  ];
  const paths = new Set<string>();
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    paths.add(path);
    // node_modules may be a link (worktrees share one): the rule must name the real folder too.
    const real = realpathSync(path);
    if (real !== path) paths.add(real);
  }
  return [...paths];
}
