import { strict as assert } from 'node:assert';

import { AiBridgeError } from '../../plugin/core/ai-bridge-error';
import { errorFields, formatLogEvent, LOG_FIELD_NAMES, type LogFields } from '../../plugin/core/log-event';

function parsed(line: string): Record<string, unknown> {
  const match = /^\[ai-bridge\] (\{.*\})$/.exec(line);
  assert.ok(match?.[1] !== undefined, line);
  return JSON.parse(match[1]) as Record<string, unknown>;
}

describe('log events', () => {
  it('writes one line: the source, then level, event and the fields as JSON', () => {
    const line = formatLogEvent('ai-bridge', 'error', 'job-quarantined',
      { job: 12, instance: 'f0c1e2d3-a4b5c6d7-e8f90011-22334455-66778899', stage: 'deid', code: 'AIB_DEID_FAILED', attempt: 3, message: 'job 12 quarantined:\nsecond line' });
    assert.equal(line.split('\n').length, 1);
    assert.deepEqual(parsed(line), {
      level: 'error', event: 'job-quarantined', message: 'job 12 quarantined:\nsecond line', job: 12,
      instance: 'f0c1e2d3-a4b5c6d7-e8f90011-22334455-66778899', stage: 'deid', code: 'AIB_DEID_FAILED', attempt: 3,
    });
  });

  it('drops a field that is not on the list, whatever the caller passes, and leaves out undefined ones', () => {
    const smuggled = { message: 'ready', stage: undefined, PatientName: 'Zebulonova^Quiterie', patientId: 'MRN-A-774411' } as unknown as LogFields;
    const line = formatLogEvent('ai-bridge', 'info', 'gateway-ready', smuggled);
    assert.deepEqual(parsed(line), { level: 'info', event: 'gateway-ready', message: 'ready' });
    assert.doesNotMatch(line, /Zebulonova|MRN-A/);
    for (const name of LOG_FIELD_NAMES) assert.doesNotMatch(name, /patient|name$|birth|accession/i, `field ${name}`);
  });

  it('names an event in kebab-case or marks it unnamed', () => {
    assert.equal(parsed(formatLogEvent('ai-bridge', 'info', 'job 12 done', { message: 'x' }))['event'], 'unnamed-event');
  });

  it('takes the AIB code of an error, and only the message of anything else', () => {
    assert.deepEqual(errorFields(new AiBridgeError('AIB_STOW_REFUSED', 'refused', {}, false)), { code: 'AIB_STOW_REFUSED', message: 'refused' });
    assert.deepEqual(errorFields(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), { message: 'connect ECONNREFUSED' });
    assert.deepEqual(errorFields('plain'), { message: 'plain' });
  });
});
