import { strict as assert } from 'node:assert';

import { TermSetCache } from '../../../plugin/deid/text';
import type { InspectIdentifiers } from '../../../plugin/deid/text/inspect-identifiers';

/** Synthetic identifiers: one "patient" per letter. */
function patient(letter: string): InspectIdentifiers {
  return {
    patient: { id: `ID-${letter}`, name: `Testname${letter}^Given`, birthDate: '19700101', otherIds: [] },
    accessionNumber: `ACC-${letter}`,
    identifiers: [],
  };
}

describe('TermSetCache', () => {
  it('builds the term sets of a series once and hands the same sets to its other instances', () => {
    const cache = new TermSetCache(new Set(), 4);
    const first = cache.termSetsFor(patient('a'));
    assert.equal(cache.termSetsFor(patient('a')), first);
    assert.notEqual(cache.termSetsFor(patient('b')), first);
  });

  it('forgets the least recently used patient past its capacity, not the one just used', () => {
    const cache = new TermSetCache(new Set(), 2);
    const a = cache.termSetsFor(patient('a'));
    const b = cache.termSetsFor(patient('b'));
    assert.equal(cache.termSetsFor(patient('a')), a); // a is now the most recent
    cache.termSetsFor(patient('c')); // evicts b
    assert.equal(cache.termSetsFor(patient('a')), a);
    assert.notEqual(cache.termSetsFor(patient('b')), b, 'b was rebuilt, so it had been forgotten');
  });
});
