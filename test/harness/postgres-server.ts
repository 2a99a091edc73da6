import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { freePort } from '../../plugin/cli/orthanc-launcher';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 (package postgresql, scripts/bootstrap.sh). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface RunningPostgres {
  readonly port: number;
  /** URI of the database `aibridge`, as AiBridge.Database.ConnectionUri takes it. */
  readonly uri: string;
  stop(): Promise<void>;
}

/** uid and gid of the `postgres` user: the server refuses to run as root, and tests run as root. */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const fields = line?.split(':');
  if (fields === undefined) throw new Error('no postgres user: apt-get install postgresql (scripts/bootstrap.sh)');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/**
 * A throwaway PostgreSQL cluster: initdb into a temporary folder, pg_ctl
 * start on a free 127.0.0.1 port (its socket in the same folder), a database
 * `aibridge`; stop() shuts it down fast and deletes the folder. fsync is off:
 * the cluster dies with the test.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const user = postgresUser();
  const root = mkdtempSync(join(tmpdir(), 'aib-pg-'));
  chownSync(root, user.uid, user.gid);
  const data = join(root, 'data');
  const as = { uid: user.uid, gid: user.gid, cwd: root, env: { PATH: `${PG_BIN}:/usr/bin:/bin`, LANG: 'C.UTF-8' } };
  const port = await freePort();
  try {
    await run(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], as);
    await run(join(PG_BIN, 'pg_ctl'), [
      '-D', data, '-l', join(root, 'server.log'), '-w', '-t', '60',
      '-o', `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`, 'start',
    ], as);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const stop = async (): Promise<void> => {
    await run(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], as).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const admin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE aibridge');
    await admin.end();
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, uri: `postgresql://postgres@127.0.0.1:${port}/aibridge`, stop };
}
