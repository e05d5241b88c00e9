// Keeping native memory flat across many model steps. MLX buffers are freed by N-API
// finalizers when V8 collects their wrappers, and Node runs those finalizers from the
// event loop: a synchronous loop of steps frees nothing, however often it collects
// (measured: +0.4 MB per tiny-Mimi step, and +3 MB uncompiled, without ever yielding).
// Awaiting one macrotask per step is enough to stay bounded; V8 does not see the native
// sizes, though, so garbage waits for V8's own schedule and the allocator's high-water
// mark creeps up by a few MB. Where `gc` is exposed (node --expose-gc), a young-generation
// collection every 5 steps (well under a millisecond) keeps it flat: 10,000 tiny-Mimi
// steps grew 8.1 MB with one every 25 steps and 0.4 MB (over 5,000) with one every 5.

type GcFn = (options?: { type?: 'minor' | 'major' }) => void;

export interface PacerOptions {
  /** Steps between minor collections when `gc` is exposed (0 = never). Default 5. */
  readonly gcEvery?: number;
}

export class NativeMemoryPacer {
  private readonly gcEvery: number;
  private readonly gc: GcFn | undefined;
  private steps = 0;

  constructor(options: PacerOptions = {}) {
    this.gcEvery = options.gcEvery ?? 5;
    this.gc = (globalThis as { gc?: GcFn }).gc;
  }

  /** Call once per model step: yields to the event loop so finalizers run. */
  async step(): Promise<void> {
    this.steps++;
    if (this.gc && this.gcEvery > 0 && this.steps % this.gcEvery === 0) this.gc({ type: 'minor' });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
