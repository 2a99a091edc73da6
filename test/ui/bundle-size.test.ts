import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { repoRoot } from '../../plugin/cli/repo-root';

/** A budget, not a measurement of speed: the UI must stay one small offline bundle. */
const GZIP_BUDGET_BYTES = 40 * 1024;

describe('admin UI bundle (dist/web-ui, built by scripts/bootstrap.sh)', () => {
  const dist = join(repoRoot(), 'dist', 'web-ui');

  it('is small, self-contained and names its assets by content hash', () => {
    const assets = readdirSync(join(dist, 'assets'));
    assert.ok(assets.some((a) => /^index-[A-Za-z0-9_-]{8}\.js$/.test(a)), assets.join());
    let raw = 0;
    let gzip = 0;
    for (const name of assets) {
      const bytes = readFileSync(join(dist, 'assets', name));
      raw += bytes.length;
      gzip += gzipSync(bytes).length;
      // No CDN: nothing in the bundle is fetched from another origin.
      assert.doesNotMatch(bytes.toString('utf8'), /(?:src|href)=["']?https?:\/\//, `${name} loads from another origin`);
    }
    process.stdout.write(`      admin UI bundle: ${assets.length} assets, ${raw} bytes, ${gzip} bytes gzip\n`);
    assert.ok(gzip < GZIP_BUDGET_BYTES, `${gzip} bytes gzip is over the ${GZIP_BUDGET_BYTES} budget`);
    assert.doesNotMatch(readFileSync(join(dist, 'index.html'), 'utf8'), /https?:\/\//);
  });
});
