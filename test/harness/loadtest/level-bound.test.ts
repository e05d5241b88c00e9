// A level whose clients outlast every bound they wait on fails, saying where each client is,
// instead of holding its caller (a capacity search, a bench round) for ever. Against a real
// Moshi server on loopback that holds its handshakes (prompt-upstream.ts with ?burst=2 and
// one client): the client waits in its connect, and the level's own bound ends it first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Libopus } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { DEFAULT_INPUT, LoadtestError, levelBoundMs, parseTarget, runLevel, wavInput } from '../../../harness/loadtest/index.ts';
import { startPromptUpstream, type PromptUpstream } from './prompt-upstream.ts';

let up: PromptUpstream;
let lib: Libopus;

beforeAll(async () => {
  up = await startPromptUpstream();
  lib = await loadLibopusNode();
});
afterAll(async () => {
  await up?.close();
});

describe('a load level past its bound', () => {
  it('fails with LOADTEST_ERR_LEVEL_STUCK naming the clients\' states, within the bound', async () => {
    const t0 = performance.now();
    const err = await runLevel({
      target: parseTarget(`ws://127.0.0.1:${up.port}/api/chat?burst=2`, 'moshi'), clients: 1, durationS: 2, rampS: 0, inputs: [wavInput(DEFAULT_INPUT)],
      budgetMs: 80, lib, connectTimeoutMs: 20_000, record: null, runId: 'bound', serverHealth: false, boundMs: 1500,
    }).catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(err).toBeInstanceOf(LoadtestError);
    expect((err as LoadtestError).code).toBe('LOADTEST_ERR_LEVEL_STUCK');
    expect((err as Error).message).toMatch(/did not end within 2 s, .*; where they are: 1 client\(s\), \d+\/2 s: 1 connecting; frames 0 sent, 0 back/);
    // The bound, not the connect timeout, ended it.
    expect(took).toBeLessThan(10_000);
  }, 30_000);

  it('by default is the sum of what a client waits on, so a slow but moving level is never cut', () => {
    const b = levelBoundMs({ rampS: 1, durationS: 30, connectTimeoutMs: 10_000 });
    expect(b).toBeGreaterThan((1 + 30) * 1000 + 10_000 + 30_000);
    expect(levelBoundMs({ rampS: 1, durationS: 60, connectTimeoutMs: 10_000 }) - b).toBe(30_000);
  });
});
