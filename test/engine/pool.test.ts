// The engine pool with real worker processes and the tiny model: where sessions go, and a
// worker that comes back with other weights than the pool serves is kept out.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePreset, TINY } from '../../src/engine/models.ts';
import type { ModelSpec } from '../../src/engine/model-spec.ts';
import { EnginePool } from '../../src/engine/pool.ts';
import { GREEDY } from '../../src/engine/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-pool-engine-'));
let pool: EnginePool | undefined;
afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

const frame = (step: number) => Float32Array.from({ length: 1920 }, (_, j) => 0.25 * Math.sin((step * 1920 + j) * 0.013));
const waitFor = async (pred: () => boolean, ms: number, what: string) => {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('EnginePool', () => {
  let spec: ModelSpec;
  let other: ModelSpec;
  beforeAll(async () => {
    // The tiny model in a folder of its own (so the test can change its weights on disk), and the same model seeded otherwise.
    spec = ensurePreset(TINY, undefined, join(dir, 'a'));
    other = ensurePreset({ ...TINY, seed: TINY.seed + 1 }, undefined, join(dir, 'b'));
    pool = new EnginePool({ spec, engines: 2, restartDelayMs: 50 });
    expect(await pool.start()).not.toBeNull();
    expect(pool.state).toBe('ok');
  }, 120_000);

  it('opens each session on the least loaded worker (fewest sessions, ties to the lowest index) and routes its steps there', async () => {
    await Promise.all(['s1', 's2', 's3'].map((s, i) => pool!.openSession(s, { seed: i, sampling: GREEDY })));
    expect(['s1', 's2', 's3'].map((s) => pool!.workerOf(s))).toEqual([0, 1, 0]);
    expect(pool!.workers.map((w) => w.sessions)).toEqual([2, 1]);
    await pool!.closeSession('s2');
    // Loads (2, 0), then (2, 1): both go to worker 1; at (2, 2) the tie goes to worker 0.
    await pool!.openSession('s4', { seed: 4, sampling: GREEDY });
    expect(pool!.workerOf('s4')).toBe(1);
    await pool!.openSession('s5', { seed: 5, sampling: GREEDY });
    expect(pool!.workerOf('s5')).toBe(1);
    await pool!.openSession('s6', { seed: 6, sampling: GREEDY });
    expect(pool!.workerOf('s6')).toBe(0);
    const steps0 = pool!.workers.map((w) => w.steps);
    for (let k = 0; k < 3; k++) await pool!.step({ session: 's5', step: k, pcm: frame(k), events: [] });
    expect(pool!.workers.map((w, i) => w.steps - steps0[i]!)).toEqual([0, 3]);
    await expect(pool!.step({ session: 'nope', step: 0, pcm: frame(0), events: [] })).rejects.toMatchObject({ code: 'ENGINE_ERR_SESSION' });
    for (const s of ['s1', 's3', 's4', 's5', 's6']) await pool!.closeSession(s);
    expect(pool!.workers.map((w) => w.sessions)).toEqual([0, 0]);
  }, 60_000);

  it('keeps out a worker that restarts with other weights: it is stopped and said so, and sessions go to the others', async () => {
    // The model folder's weights change under a running server (an update, a bad copy)...
    copyFileSync(other.lmWeights, spec.lmWeights);
    const states: string[] = [];
    pool!.on('state', (s, why) => states.push(`${s}: ${why}`));
    // ...and worker 1 dies and reloads from disk.
    pool!.hosts[1]!.kill();
    await waitFor(() => pool!.workers[1]!.state === 'degraded', 60_000, 'worker 1 to be refused');
    expect(pool!.state).toBe('ok');
    expect(pool!.reason).toMatch(/1 of 2 engine workers not serving.*worker 1 degraded: .*another model or platform/);
    await waitFor(() => pool!.hosts[1]!.state === 'stopped', 10_000, 'worker 1 to stop');
    expect(pool!.hosts[1]!.pid).toBeNull();
    expect(states.at(-1)).toMatch(/^ok: .*worker 1 degraded/);
    await pool!.openSession('t1', { seed: 1, sampling: GREEDY });
    await pool!.openSession('t2', { seed: 2, sampling: GREEDY });
    expect([pool!.workerOf('t1'), pool!.workerOf('t2')]).toEqual([0, 0]);
  }, 120_000);
});
