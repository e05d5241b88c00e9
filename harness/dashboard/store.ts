// The latest value of something a producer reports (replay or bench progress), for a view
// that renders it at its own pace. Producers call `set` as often as they like; Ink's frame
// limit decides how often the screen follows.
export class Latest<T> {
  private value: T;
  private readonly listeners = new Set<(v: T) => void>();
  constructor(initial: T) {
    this.value = initial;
  }
  get(): T {
    return this.value;
  }
  set(v: T): void {
    this.value = v;
    for (const l of this.listeners) l(v);
  }
  subscribe(fn: (v: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
