import { strict as assert } from 'node:assert';
import { appendFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { AuditLog } from '../../plugin/gateway/audit-log';
import { tempDir } from '../harness/bridge-orthanc';

describe('audit.jsonl: the newest entries and the count without reading the whole log each time', () => {
  const dir = tempDir('audit-log');
  after(() => { dir.remove(); });

  it('reads the newest entries from the end of a log larger than its read chunk, oldest first, and counts them', () => {
    const path = join(dir.path, 'large.jsonl');
    const audit = new AuditLog(path);
    assert.deepEqual([audit.count(), audit.newest(5)], [0, []], 'no file yet');
    const lines: string[] = [];
    for (let n = 0; n < 30_000; n++) lines.push(JSON.stringify({ at: '2026-12-05T00:00:00.000Z', event: 'done', jobId: n, detail: 'x'.repeat(60) }));
    writeFileSync(path, lines.join('\n') + '\n');
    assert.ok(statSync(path).size > 2 * (1 << 20), 'the log spans several 1 MiB chunks');
    assert.equal(audit.count(), 30_000);
    assert.deepEqual(audit.newest(3).map((e) => e.jobId), [29_997, 29_998, 29_999]);
    assert.equal(audit.newest(10_000).length, 10_000);
    assert.equal(audit.newest(10_000)[0]?.jobId, 20_000);
    assert.equal(audit.newest(50_000).length, 30_000, 'a limit above the count gives every entry');
    assert.deepEqual(audit.newest(30_000), audit.entries());

    audit.append({ event: 'instance-deleted', jobId: 30_000 });
    assert.equal(audit.count(), 30_001, 'an append is counted from where the last count stopped');
    assert.equal(audit.newest(1)[0]?.event, 'instance-deleted');
  });

  it('counts a torn last write as an entry, as entries() shows it, and counts a rotated log anew', () => {
    const path = join(dir.path, 'audit.jsonl');
    const audit = new AuditLog(path);
    audit.append({ event: 'a' });
    audit.append({ event: 'b' });
    assert.equal(audit.count(), 2);
    appendFileSync(path, '{"at":"2026-12-05T00:00:00.000Z","ev');
    assert.equal(audit.count(), 3);
    assert.equal(audit.newest(1)[0]?.event, 'unreadable');
    assert.equal(audit.entries().length, 3);

    // logrotate's default: the file is renamed, and the next append creates a new one.
    renameSync(path, `${path}.1`);
    assert.deepEqual([audit.count(), audit.newest(10)], [0, []]);
    audit.append({ event: 'c' });
    assert.equal(audit.count(), 1);
    assert.deepEqual(audit.newest(10).map((e) => e.event), ['c']);
    assert.equal(statSync(path).mode & 0o777, 0o600, 'the new file is owner-only too');
  });
});
