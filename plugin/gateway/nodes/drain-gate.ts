/**
 * The same store, except that `claim` finds nothing while the node drains:
 * what it already runs finishes, nothing new starts. A wrapper rather than a
 * flag in every claimer, so each kind's pipeline stays as it is.
 */
export function drainGate<S extends object>(store: S, claim: keyof S, draining: () => boolean): S {
  return new Proxy(store, {
    get(target, property, receiver): unknown {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property === claim) return (...args: unknown[]) => (draining() ? undefined : method.apply(target, args));
      // #private fields need the real object as `this`.
      return method.bind(target);
    },
  });
}
