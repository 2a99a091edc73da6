import { strict as assert } from 'node:assert';

import { ConfigError } from '../../plugin/gateway/gateway-errors';

/** The ConfigError `fn` throws (any other error propagates); fails the test when it throws none. */
export function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('expected a ConfigError');
}
