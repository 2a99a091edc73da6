import { strict as assert } from 'node:assert';

import { nextPublishDelayMs } from '../../plugin/gateway/metrics-publisher';

describe('metrics publisher', () => {
  it('spaces its rounds out as counting the jobs gets dearer, within 0.5 to 60 s', () => {
    assert.equal(nextPublishDelayMs(0.2), 500, 'a small queue: every 0.5 s');
    assert.equal(nextPublishDelayMs(6.7), 670, 'counting 100,000 jobs: at most 1 % of a core');
    assert.equal(nextPublishDelayMs(120), 12_000);
    assert.equal(nextPublishDelayMs(5_000), 60_000, 'never later than a minute');
  });
});
