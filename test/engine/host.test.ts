// The engine in its real child process with the real tiny model (synthetic weights).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../src/engine/host.ts';
import { ensurePreset, TINY } from '../../src/engine/models.ts';
import type { ModelSpec } from '../../src/engine/model-spec.ts';
import { DEFAULT_SAMPLING, GREEDY, type StepOutput } from '../../src/engine/types.ts';

const frame = (step: number) => Float32Array.from({ length: 1920 }, (_, j) => 0.25 * Math.sin((step * 1920 + j) * 0.013) + 0.05 * Math.sin((step * 1920 + j) * 0.11));

async function run(host: EngineHost, session: string, seed: number, n: number, sampling = DEFAULT_SAMPLING): Promise<StepOutput[]> {
  await host.openSession(session, { seed, sampling });
  const out: StepOutput[] = [];
  for (let i = 0; i < n; i++) out.push(await host.step({ session, step: i, pcm: frame(i), events: [] }));
  await host.closeSession(session);
  return out;
}

const tokens = (o: StepOutput[]) => o.map((s) => [s.text, ...(s.audio ?? [])]);

describe('engine host with the tiny model', () => {
  let spec: ModelSpec;
  let host: EngineHost;

  beforeAll(async () => {
    spec = ensurePreset(TINY);
    host = new EngineHost({ spec, restartDelayMs: 50 });
    const info = await host.start();
    expect(info?.untrained).toBe(true);
  });
  afterAll(async () => {
    await host.close();
  });

  it('steps a session: warm-up step returns no tokens, then text, 8 audio codes and 1920 samples with every engine span', async () => {
    const out = await run(host, 's1', 1, 6);
    expect(out[0]!.text).toBeNull();
    expect(out[0]!.pcm).toBeNull();
    for (const s of out.slice(1)) {
      expect(Number.isInteger(s.text)).toBe(true);
      expect(s.audio).toHaveLength(8);
      expect(s.pcm).toHaveLength(1920);
      expect(s.pcmHash).toMatch(/^[0-9a-f]{32}$/);
      for (const span of ['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'step.total'] as const) expect(s.spans[span]).toBeGreaterThan(0);
    }
    expect(out.every((s) => s.inputCodes.length === 8)).toBe(true);
  });

  it('is deterministic per seed: same seed and input → same tokens and PCM hashes; another seed differs', async () => {
    const a = await run(host, 'a', 42, 8);
    const b = await run(host, 'b', 42, 8);
    const c = await run(host, 'c', 43, 8);
    expect(tokens(b)).toEqual(tokens(a));
    expect(b.map((s) => s.pcmHash)).toEqual(a.map((s) => s.pcmHash));
    expect(tokens(c)).not.toEqual(tokens(a));
  });

  it('keeps interleaved sessions apart: each equals its solo run', async () => {
    const solo = await run(host, 'solo', 5, 5, GREEDY);
    await host.openSession('x', { seed: 5, sampling: GREEDY });
    await host.openSession('y', { seed: 9, sampling: DEFAULT_SAMPLING });
    const x: StepOutput[] = [];
    for (let i = 0; i < 5; i++) {
      x.push(await host.step({ session: 'x', step: i, pcm: frame(i), events: [] }));
      await host.step({ session: 'y', step: i, pcm: frame(100 + i), events: [] });
    }
    expect(tokens(x)).toEqual(tokens(solo));
    expect(x.map((s) => s.pcmHash)).toEqual(solo.map((s) => s.pcmHash));
    await host.closeSession('x');
    await host.closeSession('y');
  });

  it('rejects a wrong frame length, an out-of-order step and an unknown session with typed errors', async () => {
    await host.openSession('bad', { seed: 1, sampling: GREEDY });
    await expect(host.step({ session: 'bad', step: 0, pcm: new Float32Array(100), events: [] })).rejects.toMatchObject({ code: 'ENGINE_ERR_INPUT' });
    await expect(host.step({ session: 'bad', step: 3, pcm: frame(0), events: [] })).rejects.toMatchObject({ code: 'ENGINE_ERR_INPUT' });
    await expect(host.step({ session: 'nope', step: 0, pcm: frame(0), events: [] })).rejects.toMatchObject({ code: 'ENGINE_ERR_SESSION' });
    const nan = frame(0);
    nan[7] = NaN;
    await expect(host.step({ session: 'bad', step: 0, pcm: nan, events: [] })).rejects.toMatchObject({ code: 'ENGINE_ERR_INPUT' });
    await host.closeSession('bad');
  });

  it('survives the worker being killed mid-session: reports the session lost, restarts, serves new sessions', async () => {
    await host.openSession('doomed', { seed: 1, sampling: GREEDY });
    await host.step({ session: 'doomed', step: 0, pcm: frame(0), events: [] });
    const lost = new Promise<readonly string[]>((resolve) => host.once('sessions-lost', (ids) => resolve(ids)));
    const states: string[] = [];
    host.on('state', (s) => states.push(s));
    const oldPid = host.pid;
    host.kill('SIGKILL');
    expect(await lost).toEqual(['doomed']);
    await expect(host.step({ session: 'doomed', step: 1, pcm: frame(1), events: [] })).rejects.toMatchObject({ code: 'ENGINE_ERR_NOT_READY' });
    while (host.state !== 'ok') await new Promise((r) => setTimeout(r, 50));
    expect(states).toContain('restarting');
    expect(host.pid).not.toBe(oldPid);
    expect(host.restartCount).toBe(1);
    const again = await run(host, 'after', 42, 3);
    expect(again[2]!.pcm).toHaveLength(1920);
  });

  it('measures the IPC round-trip overhead per step', () => {
    expect(host.ipcOverheadMs.length).toBeGreaterThan(10);
    expect(host.ipcOverheadMs.every((x) => x >= 0)).toBe(true);
  });
});

describe('engine host without a usable model', () => {
  it('starts degraded and says why when no model is configured', async () => {
    const host = new EngineHost({ spec: null, noModelReason: 'no weights in /nowhere' });
    expect(await host.start()).toBeNull();
    expect(host.state).toBe('degraded');
    expect(host.reason).toContain('/nowhere');
    await expect(host.openSession('s', { seed: 1, sampling: GREEDY })).rejects.toMatchObject({ code: 'ENGINE_ERR_NOT_READY' });
  });

  it('starts degraded, naming the file, when a weight file is truncated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'solacelive-badmodel-'));
    const good = ensurePreset(TINY);
    const { copyFileSync, truncateSync, statSync } = await import('node:fs');
    const weights = join(dir, 'model.safetensors');
    copyFileSync(good.lmWeights, weights);
    truncateSync(weights, statSync(weights).size - 1000);
    const host = new EngineHost({ spec: { ...good, lmWeights: weights } });
    expect(await host.start()).toBeNull();
    expect(host.state).toBe('degraded');
    expect(host.reason).toContain('WEIGHTS_ERR_TRUNCATED');
    expect(host.reason).toContain(weights);
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
