// The pipelined offline replay (Mimi encode ahead of the LM and decode behind it on a second
// engine worker) computes what the one-worker replay computes: on the fixture, every step's
// codes, token and PCM hash, and output.wav byte for byte (and so does one worker with
// steps sent ahead, as a corpus replays); on a session recorded here by the
// live engine with a skipped decode, a reset (encoder and decoder restart at their own step,
// though the encoder runs ahead) and a skipped decode right after it: bit-exact.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepDraft, stepRecordOf } from '../../../src/engine/step-record.ts';
import { DEFAULT_SAMPLING } from '../../../src/engine/types.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { StepEvent } from '../../../src/telemetry/events.ts';
import { viewOf } from '../../../harness/compare.ts';
import { openSession, SessionWriter } from '../../../harness/format/node.ts';
import { manifestFromEngine, softwareInfo } from '../../../harness/recorder.ts';
import { replaySession } from '../../../harness/replayer.ts';
import { startEngine, testFrames } from '../../server/live/engine.ts';

const fixture = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-pipelined-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function views(path: string) {
  const out = [];
  for await (const s of (await openSession(path)).steps()) out.push(viewOf(s));
  return out;
}

describe('pipelined offline replay', () => {
  it('gives the fixture the same steps and output audio as the one-worker replay, as does one worker with steps sent ahead', async () => {
    const one = await replaySession(fixture, { out: join(dir, 'one.session') });
    for (const [name, o] of [['two', { pipeline: true }], ['ahead', { window: 32 }]] as const) {
      const r = await replaySession(fixture, { out: join(dir, `${name}.session`), ...o });
      expect(r.stepsReplayed).toBe(one.stepsReplayed);
      expect(r.comparison.verdict).toBe(one.comparison.verdict);
      const [a, b] = await Promise.all([views(join(dir, 'one.session')), views(join(dir, `${name}.session`))]);
      expect(a).toHaveLength(25);
      expect(b).toEqual(a);
      expect(readFileSync(join(dir, `${name}.session`, 'output.wav')).equals(readFileSync(join(dir, 'one.session', 'output.wav')))).toBe(true);
    }
  }, 180_000);

  describe('on a session with a reset and skipped decodes, recorded here by the live engine', () => {
    let engine: EnginePort;
    beforeAll(async () => {
      engine = await startEngine();
    }, 60_000);
    afterAll(async () => {
      await engine?.close();
    });

    const STEPS = 14;
    const RESET = 7;
    const events = (k: number): StepEvent[] =>
      k === 4 || k === RESET + 1 ? [{ kind: 'skipped-decode', reason: 'send backlog' }] : k === RESET ? [{ kind: 'reset', reason: 'client asked' }] : [];

    it('replays bit-exact: each stage restarts its own state at the reset step', async () => {
      const path = join(dir, 'reset.session');
      const id = 'pipelined-reset';
      await engine.openSession(id, { seed: 9, sampling: DEFAULT_SAMPLING });
      const w = await SessionWriter.create(path, manifestFromEngine(engine.info!, { seed: 9, sampling: DEFAULT_SAMPLING }, softwareInfo(), { test: 'pipelined' }));
      const frames = testFrames(STEPS, 3);
      for (let k = 0; k < STEPS; k++) {
        const input = { session: id, step: k, pcm: frames[k]!, events: events(k) };
        const out = await engine.step(input);
        w.appendStep(stepRecordOf(stepDraft(input, out, {}, 1000 + 80 * k), 1000), input.pcm, out.pcm);
      }
      await engine.closeSession(id);
      expect((await w.close()).status).toBe('complete');
      // Recorded on this machine by the same engine: the fingerprints match, bit-exact is due.
      const r = await replaySession(path, { pipeline: true });
      expect(r.expected).toBe('bit-exact');
      expect(r.stepsReplayed).toBe(STEPS);
      expect(r.comparison.verdict).toBe('bit-exact');
    }, 120_000);
  });
});
