// A size-bounded map that forgets its least recently used entry: for caches whose keys a
// client chooses (sampling parameters), so memory stays bounded however many it tries.
export class LruCache<K, V> {
  readonly capacity: number;
  private readonly map = new Map<K, V>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruCache: capacity must be a positive integer (got ${capacity})`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, made by `make` on a miss; the oldest entry goes when full. */
  getOrCreate(key: K, make: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined || this.map.has(key)) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recent.
      this.map.delete(key);
      this.map.set(key, hit as V);
      return hit as V;
    }
    const v = make();
    if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, v);
    return v;
  }

  keys(): K[] {
    return [...this.map.keys()];
  }
}
