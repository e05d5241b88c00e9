// Offline replay drives the live step loop with each step's recorded pre-step events: a
// session whose steps carry a skipped decode, a missing frame and a dropped frame (plus
// decisions taken after a step and an event outside any step, which are not input) replays
// with the verdict its fingerprint allows; the same outputs recorded without the
// skipped-decode event do not replay bit-exactly, so the events really are re-applied.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepDraft, stepRecordOf } from '../../../src/engine/step-record.ts';
import { DEFAULT_SAMPLING } from '../../../src/engine/types.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { StepEvent } from '../../../src/telemetry/events.ts';
import { satisfies } from '../../../harness/compare.ts';
import { SessionWriter } from '../../../harness/format/node.ts';
import { manifestFromEngine, softwareInfo } from '../../../harness/recorder.ts';
import { replaySession } from '../../../harness/replayer.ts';
import { startEngine, testFrames } from '../../server/live/engine.ts';

const STEPS = 12;
const SKIP = 5;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-replay-events-'));
let engine: EnginePort;
beforeAll(async () => {
  engine = await startEngine();
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Input events per step, as a live session's cadence and send queue would decide them. */
function preStep(k: number): StepEvent[] {
  if (k === 3) return [{ kind: 'missing-frame', replacement: 'silence' }];
  if (k === 4) return [{ kind: 'dropped-frame', seq: 3 }, { kind: 'late-frame', seq: 4, lateMs: 7 }];
  if (k === SKIP || k === SKIP + 1) return [{ kind: 'skipped-decode', reason: 'send backlog' }];
  return [];
}

/** Runs the engine on the frames with those events and writes the session as the recorder would. */
async function writeSession(name: string, keepEvent: (e: StepEvent) => boolean): Promise<string> {
  const path = join(dir, name);
  const seed = 77;
  const id = `events-${name}`;
  await engine.openSession(id, { seed, sampling: DEFAULT_SAMPLING });
  const w = await SessionWriter.create(path, manifestFromEngine(engine.info!, { seed, sampling: DEFAULT_SAMPLING }, softwareInfo(), { test: 'replay-events' }));
  const frames = testFrames(STEPS, 5);
  for (let k = 0; k < STEPS; k++) {
    const pcm = k === 3 ? new Float32Array(1920) : frames[k]!;
    const input = { session: id, step: k, pcm, events: preStep(k) };
    const out = await engine.step(input);
    const line = stepRecordOf(stepDraft(input, out, {}, 1000 + 80 * k), 1000);
    // After the step: a dropped partial; outside any step: a protocol error (the recorder puts it on the next line).
    const after: StepEvent[] = k === 7 ? [{ kind: 'dropped-partial', token: out.text ?? 0 }] : [];
    const loose: StepEvent[] = k === 8 ? [{ kind: 'protocol-error', code: 'BAD_PACKET', message: 'test' }] : [];
    w.appendStep({ ...line, events: [...loose, ...line.events, ...after].filter(keepEvent) }, pcm, out.pcm);
  }
  await engine.closeSession(id);
  expect((await w.close()).status).toBe('complete');
  return path;
}

describe('offline replay through the step loop', () => {
  it('re-applies the recorded pre-step events and gives the verdict the fingerprints allow', async () => {
    const path = await writeSession('events.session', () => true);
    const r = await replaySession(path, { engine });
    expect(r.stepsReplayed).toBe(STEPS);
    if (r.expected === 'bit-exact') expect(r.comparison.verdict).toBe('bit-exact');
    else expect(satisfies(r.comparison.kind, 'token-exact')).toBe(true);

    // The same outputs, but the skipped decode of step SKIP left out of its line: the replay
    // decodes that step, so its PCM hash differs from the recorded null.
    const without = await writeSession('no-skip.session', (e) => e.kind !== 'skipped-decode' || e.reason !== 'send backlog');
    const r2 = await replaySession(without, { engine });
    expect(r2.comparison.kind).not.toBe('bit-exact');
    expect(r2.comparison.kind === 'token-exact' ? r2.comparison.firstPcmDiff : r2.comparison.divergedAt).toBe(SKIP);
  }, 60_000);
});
