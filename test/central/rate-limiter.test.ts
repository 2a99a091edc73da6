import { strict as assert } from 'node:assert';

import { RateLimiter } from '../../central/rate-limiter';

describe('RateLimiter', () => {
  it('lets a burst through, then asks for the seconds until a token is earned, per key', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ ratePerSecond: 0.5, burst: 2 }, () => now);
    assert.equal(limiter.take('10.0.0.1'), null);
    assert.equal(limiter.take('10.0.0.1'), null);
    assert.equal(limiter.take('10.0.0.1'), 2); // one token takes 2 s at 0.5/s
    assert.equal(limiter.take('10.0.0.2'), null, 'another caller has its own bucket');
    now += 1000;
    assert.equal(limiter.take('10.0.0.1'), 1);
    now += 1000;
    assert.equal(limiter.take('10.0.0.1'), null);
    assert.equal(limiter.take('10.0.0.1'), 2);
  });

  it('gives a key idle long enough to earn a whole burst (its ttl in the cache) a full burst again', () => {
    let now = 5_000_000;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('token-a'), null);
    assert.equal(limiter.take('token-a'), 1);
    assert.equal(limiter.size, 1);
    now += 3000; // a whole burst earned: the bucket is full
    assert.equal(limiter.take('token-b'), null);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('token-a'), null);
    assert.equal(limiter.take('token-a'), 1);
  });
});
