import { strict as assert } from 'node:assert';

import { fitToVr } from '../../../plugin/deid/text';

describe('fitToVr: a scrubbed value stays valid for its VR (PS3.5 6.2)', () => {
  it('CS: a fiducial becomes its kind in code-string characters, then ≤ 16', () => {
    assert.equal(fitToVr('% PATIENT NAME %', 'CS'), 'PATIENT_NAME');
    assert.equal(fitToVr('QIICR % PATIENT NAME % IOWA', 'CS'), 'QIICR PATIENT_NA');
    assert.match(fitToVr('a-b % ID %', 'CS'), /^[A-Z0-9 _]{1,16}$/);
  });
  it('SH and LO are cut to 16 and 64 characters, counted as code points', () => {
    assert.equal(fitToVr('Dr % PERSON NAME % clinic', 'SH'), 'Dr % PERSON NAME');
    const lo = `${'é'.repeat(60)} % ID %`;
    assert.equal(Array.from(fitToVr(lo, 'LO')).length, 64);
  });
  it('values within bounds and VRs without a limit pass unchanged', () => {
    assert.equal(fitToVr('Liver mask for % PATIENT NAME %', 'LO'), 'Liver mask for % PATIENT NAME %');
    const long = '% PATIENT NAME % '.repeat(100);
    assert.equal(fitToVr(long, 'UT'), long);
  });
});
