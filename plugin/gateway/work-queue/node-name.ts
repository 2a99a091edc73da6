import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * This gateway's name as a lease owner: the host and its data directory (two
 * Orthanc nodes on one machine, as in the tests, have two). A process owns
 * its leases as `<node>:<pid>`; a restarted gateway of the same node ends the
 * previous process's leases at once (WorkQueue.expireLeasesOf) instead of
 * waiting for them to run out.
 */
export function nodeName(dataDirectory: string): string {
  let path = dataDirectory;
  try {
    path = realpathSync(dataDirectory);
  } catch {
    // Not created yet: the name is the path as configured.
  }
  return `${hostname()}-${createHash('sha256').update(path).digest('hex').slice(0, 8)}`;
}

export function leaseOwner(node: string, pid: number = process.pid): string {
  return `${node}:${pid}`;
}
