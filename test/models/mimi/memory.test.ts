// Native memory stays flat over a streaming session when the caller yields to the event
// loop between steps (the policy of src/models/nn/memory.ts). This keeps to a few seconds;
// `solacelive bench --suite mimi` notes the RSS drift over its frames on every run.
import { describe, expect, it } from 'vitest';
import { NativeMemoryPacer } from '../../../src/models/nn/memory.ts';
import { FRAME, goldenF32, tinyMimi } from './fixtures.ts';

const rss = async () => {
  globalThis.gc?.();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return process.memoryUsage().rss / 2 ** 20;
};

describe('Mimi native memory', () => {
  it('stays flat (< 6 MB) over 200 encode+decode steps after a 60-step warm-up', async () => {
    // Uncompiled: more native garbage per step (the stricter case), and no kernel builds.
    const mimi = tinyMimi({ compile: false });
    const pcm = goldenF32('input_pcm');
    const pacer = new NativeMemoryPacer();
    const step = async (i: number) => {
      const t = i % 40;
      mimi.decodeStep(mimi.encodeStep(pcm.subarray(t * FRAME, (t + 1) * FRAME)));
      await pacer.step();
    };
    for (let i = 0; i < 60; i++) await step(i);
    const before = await rss();
    for (let i = 60; i < 260; i++) await step(i);
    const after = await rss();
    expect(after - before).toBeLessThan(6);
  }, 30_000);
});
