// The engine the live tests run against: whatever `solacelive serve` builds (the one plug-in
// point, src/cli/serve.ts createEngine): a real child process running the tiny model with
// real MLX, started and checked. SOLACELIVE_TEST_MODEL picks another model.
import { createEngine } from '../../../src/cli/serve.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';

export async function startEngine(): Promise<EnginePort> {
  const { engine, reason } = await createEngine(process.env.SOLACELIVE_TEST_MODEL ?? null);
  if (!engine) throw new Error(`no engine to test against: ${reason ?? 'createEngine returned none'}`);
  await engine.start();
  if (engine.state !== 'ok' || !engine.info) throw new Error(`engine did not come up: ${engine.state}${engine.reason ? `: ${engine.reason}` : ''}`);
  return engine;
}

/** Speech-band test signal: frame k of a slow chirp with some noise, deterministic. */
export function testFrames(n: number, seed = 1): Float32Array[] {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, (_, k) =>
    Float32Array.from({ length: 1920 }, (_, i) => {
      const t = (k * 1920 + i) / 24000;
      return 0.3 * Math.sin(2 * Math.PI * (150 + 40 * t) * t) + 0.02 * rand();
    }));
}

export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
