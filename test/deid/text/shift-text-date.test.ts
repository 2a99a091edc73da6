import { strict as assert } from 'node:assert';

import { shiftTextDate } from '../../../plugin/deid/text/shift-text-date';

describe('shiftTextDate: a report\'s date moved by the patient\'s shift, in its own form', () => {
  it('shifts the forms that name one day, keeping separators, padding and month language', () => {
    assert.equal(shiftTextDate('20240105', -40), '20231126');
    assert.equal(shiftTextDate('20240105110000.5+0100', -40), '20231126110000.5+0100');
    assert.equal(shiftTextDate('2024-01-05', 400), '2025-02-08');
    assert.equal(shiftTextDate('2024/1/5', -40), '2023/11/26');
    assert.equal(shiftTextDate('05.01.2024', -40), '26.11.2023');
    assert.equal(shiftTextDate('25/12/2023', 34), '28/01/2024');
    assert.equal(shiftTextDate('12/25/2023', 34), '01/28/2024');
    assert.equal(shiftTextDate('March 4, 2019', -40), 'January 23, 2019');
    assert.equal(shiftTextDate('4 MARCH 2019', 400), '7 APRIL 2020');
    assert.equal(shiftTextDate('5 janvier 2024', 400), '8 février 2025');
    assert.equal(shiftTextDate('2024-02-28', 1), '2024-02-29', 'leap day');
  });

  it('leaves what does not name one day without doubt to the fiducial', () => {
    for (const text of ['03/04/2019', '03/04/19', 'March 2019', '4 March', '31.02.2024', '2024-13-01', 'yesterday']) {
      assert.equal(shiftTextDate(text, 10), undefined, text);
    }
  });
});
