import { LRUCache } from 'lru-cache';

import type { InspectIdentifiers } from './inspect-identifiers';
import { buildTermSets, type TermSets } from './term-sets';

/**
 * Term sets of recent instances, keyed by the identifying values they were
 * built from. The instances of one series carry the same values, so the
 * sets (and the matchers scrubText compiles for them, cached per TermSets
 * object) are built once per series instead of once per instance. The key
 * holds PHI; the cache lives only in the sealed worker's memory.
 */
export class TermSetCache {
  readonly #entries: LRUCache<string, TermSets>;
  readonly #whitelist: ReadonlySet<string>;

  constructor(whitelist: ReadonlySet<string>, capacity = 32) {
    this.#whitelist = whitelist;
    this.#entries = new LRUCache({ max: capacity });
  }

  /** `reportText`: the study's report, whose identifiers join the header's (issue 16). */
  termSetsFor(found: InspectIdentifiers, reportText?: string): TermSets {
    const key = JSON.stringify([found.patient.id, found.patient.name, found.patient.birthDate, found.patient.otherIds,
      found.accessionNumber, found.identifiers.map((i) => [i.keyword, i.vr, i.value]), reportText ?? null]);
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const built = buildTermSets(found, reportText, { whitelist: this.#whitelist });
    this.#entries.set(key, built);
    return built;
  }
}
