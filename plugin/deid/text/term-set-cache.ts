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
  readonly #entries = new Map<string, TermSets>();
  readonly #capacity: number;
  readonly #whitelist: ReadonlySet<string>;

  constructor(whitelist: ReadonlySet<string>, capacity = 32) {
    this.#whitelist = whitelist;
    this.#capacity = capacity;
  }

  termSetsFor(found: InspectIdentifiers): TermSets {
    const key = JSON.stringify([found.patient.id, found.patient.name, found.patient.birthDate, found.patient.otherIds,
      found.accessionNumber, found.identifiers.map((i) => [i.keyword, i.vr, i.value])]);
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const built = buildTermSets(found, undefined, { whitelist: this.#whitelist });
    this.#entries.set(key, built);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return built;
  }
}
