// The worker CPU rate /health and the dashboard show (CPU per wall-clock second) is timed on
// the worker's own clock: stats requests queue behind steps, so their replies arrive in bursts,
// and an interval taken on the host between two such replies is near zero while the CPU of a
// whole step lies between them (a rate of 101 cores was shown).
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../src/engine/host.ts';
import { ensurePreset, TINY } from '../../src/engine/models.ts';
import { DEFAULT_SAMPLING } from '../../src/engine/types.ts';

const frame = (step: number) => Float32Array.from({ length: 1920 }, (_, j) => 0.25 * Math.sin((step * 1920 + j) * 0.013));

describe('engine host CPU rate', () => {
  let host: EngineHost;
  beforeAll(async () => {
    // Long steps (a 120 ms CPU burn each) and frequent samples: several stats requests wait behind every step.
    host = new EngineHost({ spec: ensurePreset(TINY), cpuSampleMs: 15, testStepBurnMs: 120 });
    await host.start();
  }, 60_000);
  afterAll(async () => {
    await host.close();
  });

  it('never exceeds the cores the machine has, however the replies bunch up', async () => {
    const rates: number[] = [];
    const watch = setInterval(() => {
      const c = host.workers[0]!.cpu;
      if (c !== null) rates.push(c);
    }, 5);
    await host.openSession('s', { seed: 1, sampling: DEFAULT_SAMPLING });
    for (let i = 0; i < 12; i++) await host.step({ session: 's', step: i, pcm: frame(i), events: [] });
    await host.closeSession('s');
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(watch);
    expect(rates.length).toBeGreaterThan(0);
    expect(Math.max(...rates)).toBeLessThanOrEqual(availableParallelism());
  }, 60_000);
});
