import { strict as assert } from 'node:assert';

import { IngestYield } from '../../plugin/gateway/ingest-yield';

describe('IngestYield', () => {
  it('holds work back until the burst has been quiet for the quiet period', () => {
    let now = 10_000;
    const y = new IngestYield(1000, 30_000, () => now);
    assert.equal(y.delay(), 0, 'nothing stored yet');
    y.noteStore();
    assert.equal(y.delay(), 0, 'a lone store is not a burst: its work starts at once');
    now += 100;
    y.noteStore();
    assert.equal(y.delay(), 1000, 'a second store within the quiet period makes a burst');
    now += 400;
    y.noteStore();
    assert.equal(y.delay(), 1000, 'a new store restarts the quiet period');
    now += 1000;
    assert.equal(y.delay(), 0);
    now += 5000;
    y.noteStore();
    assert.equal(y.delay(), 0, 'after a quiet period, a lone store again goes at once');
  });

  it('does not count the bridge\'s own result stores as ingest', () => {
    let now = 0;
    const y = new IngestYield(1000, 30_000, () => now);
    y.expectOwnStores(2);
    y.noteStore();
    now += 50;
    y.noteStore();
    now += 50;
    y.noteStore();
    assert.equal(y.inBurst(), false, 'two own stores and one foreign store are no burst');
    assert.equal(y.delay(), 0);
    now += 50;
    y.noteStore();
    assert.equal(y.inBurst(), true);
    assert.equal(y.delay(), 1000);
  });

  it('lets work start after the cap during continuous ingest', () => {
    let now = 0;
    const y = new IngestYield(1000, 5000, () => now);
    for (; now < 5000; now += 200) y.noteStore();
    assert.equal(y.delay(), 0, 'capped at 5 s of continuous ingest');
  });

  it('is off with a quiet period of 0', () => {
    const y = new IngestYield(0, 5000);
    y.noteStore();
    assert.equal(y.delay(), 0);
  });
});
