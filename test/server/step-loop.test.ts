// The step loop on its own (no socket, no protocol), driven by a virtual clock and timers
// it is given, against the real tiny engine: one step per frame in order, silence for an
// overdue slot, the late frame then dropped, overflow, end → drained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FinishedStep } from '../../src/engine/step-record.ts';
import { DEFAULT_SAMPLING, type StepInput, type StepOutput } from '../../src/engine/types.ts';
import type { EnginePort } from '../../src/server/engine-port.ts';
import { StepLoop, type StepLoopHandlers, type Timers } from '../../src/server/step-loop.ts';
import { VirtualClock } from '../../src/telemetry/clock.ts';
import type { StepEvent } from '../../src/telemetry/events.ts';
import { startEngine, testFrames } from './live/engine.ts';

let engine: EnginePort;
beforeAll(async () => {
  engine = await startEngine();
});
afterAll(async () => {
  await engine?.close();
});

/** Timers that fire only when the test says the virtual time has come. */
class ManualTimers implements Timers {
  private next = 1;
  readonly due = new Map<number, { at: number; fn: () => void }>();
  private readonly clock: VirtualClock;
  constructor(clock: VirtualClock) {
    this.clock = clock;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.clock.now() + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.due.delete(h as number);
  }
  /** Moves the clock to `t`, firing what falls due on the way. */
  runTo(t: number): void {
    for (;;) {
      const first = [...this.due.entries()].filter(([, d]) => d.at <= t).sort((a, b) => a[1].at - b[1].at)[0];
      if (!first) break;
      this.due.delete(first[0]);
      this.clock.set(Math.max(this.clock.now(), first[1].at));
      first[1].fn();
    }
    this.clock.set(t);
  }
}

let n = 0;
async function loopWith(pace: 'realtime' | 'fast', maxQueuedFrames = 50) {
  const id = `loop-${n++}`;
  await engine.openSession(id, { seed: 4, sampling: DEFAULT_SAMPLING });
  const clock = new VirtualClock(1000);
  const timers = new ManualTimers(clock);
  const stepped: { input: StepInput; out: StepOutput; record: FinishedStep }[] = [];
  let asked = 0;
  const log: string[] = [];
  let wake: () => void = () => undefined;
  const on: StepLoopHandlers = {
    beforeStep: () => {
      asked++;
      return null;
    },
    stepped: (input, out, record) => {
      stepped.push({ input, out, record });
      wake();
    },
    failed: (err) => log.push(`failed ${err.message}`),
    overflow: (m) => log.push(`overflow ${m}`),
    drained: () => {
      log.push('drained');
      wake();
    },
  };
  const loop = new StepLoop(id, engine, { pace, lateToleranceMs: 40, missingFrameMs: 400, maxQueuedFrames, clock, timers }, on);
  const until = async (pred: () => boolean) => {
    const deadline = performance.now() + 10_000;
    while (!pred()) {
      if (performance.now() > deadline) throw new Error('timed out');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 20);
      });
    }
  };
  return { id, loop, clock, timers, stepped, log, until, asked: () => asked };
}

const kinds = (es: readonly StepEvent[]) => es.map((e) => e.kind);

describe('StepLoop', () => {
  it('steps each frame once, in order, one at a time, and reports drained after end', async () => {
    const { loop, stepped, log, until } = await loopWith('fast');
    const frames = testFrames(6);
    frames.forEach((f, k) => expect(loop.frame(f, k, 1000, 0)).toBe('queued'));
    loop.end();
    await until(() => log.includes('drained'));
    expect(stepped.map((s) => s.input.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stepped.map((s) => s.out.step)).toEqual([0, 1, 2, 3, 4, 5]);
    stepped.forEach((s, k) => expect(s.input.pcm).toBe(frames[k]));
    expect(loop.steps).toBe(6);
    expect(loop.framesReceived).toBe(6);
  });

  it('at real-time pace fills an overdue slot with silence, then drops the late frame, on virtual time only', async () => {
    const { loop, clock, timers, stepped, until } = await loopWith('realtime');
    const frames = testFrames(4);
    loop.frame(frames[0]!, 0, clock.now(), 0);
    timers.runTo(1080);
    loop.frame(frames[1]!, 1, clock.now(), 0);
    await until(() => stepped.length === 2);
    // Frame 2 is due at 1160 and replaced 400 ms later; nothing happens before then.
    timers.runTo(1559);
    expect(loop.queued).toBe(0);
    expect(stepped).toHaveLength(2);
    timers.runTo(1560);
    await until(() => stepped.length === 3);
    expect(kinds(stepped[2]!.input.events)).toEqual(['missing-frame']);
    expect(stepped[2]!.input.pcm.every((x) => x === 0)).toBe(true);
    // The frame for that slot turns up: dropped, recorded on the next step.
    expect(loop.frame(frames[2]!, 2, clock.now(), 0)).toBe('dropped');
    expect(loop.frame(frames[3]!, 3, clock.now(), 0)).toBe('queued');
    await until(() => stepped.length === 4);
    expect(stepped[3]!.input.events).toEqual([{ kind: 'dropped-frame', seq: 2 }]);
    expect(stepped[3]!.input.pcm).toBe(frames[3]);
  });

  it('marks a frame later than the tolerance as late, with how late', async () => {
    const { loop, clock, timers, stepped, until } = await loopWith('realtime');
    const frames = testFrames(2);
    loop.frame(frames[0]!, 0, clock.now(), 0);
    timers.runTo(1000 + 80 + 55);
    loop.frame(frames[1]!, 1, clock.now(), 0);
    await until(() => stepped.length === 2);
    expect(stepped[1]!.input.events).toEqual([{ kind: 'late-frame', seq: 1, lateMs: 55 }]);
  });

  it('reports overflow past maxQueuedFrames and keeps what it queued', async () => {
    const { loop, log, stepped, until } = await loopWith('fast', 2);
    const frames = testFrames(4);
    // The first goes straight to the engine, two wait, the fourth is one too many.
    expect(frames.map((f, k) => loop.frame(f, k, 1000, 0))).toEqual(['queued', 'queued', 'queued', 'overflow']);
    expect(log[0]).toMatch(/^overflow 2 frames wait for the engine \(limit 2\)/);
    loop.end();
    await until(() => log.includes('drained'));
    expect(stepped.map((s) => s.input.step)).toEqual([0, 1, 2]);
  });

  it('stops: queued frames are not stepped and no timer stays armed', async () => {
    const { loop, clock, timers, stepped } = await loopWith('realtime');
    const frames = testFrames(3);
    loop.frame(frames[0]!, 0, clock.now(), 0);
    loop.frame(frames[1]!, 1, clock.now(), 0);
    loop.stop();
    expect(timers.due.size).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(stepped.length).toBeLessThanOrEqual(1);
    expect(loop.frame(frames[2]!, 2, clock.now(), 0)).toBe('dropped');
  });

  it('hands each stepped frame over as its record so far: input and engine results, input events, net.recv and queue.wait, doneAt', async () => {
    const { loop, clock, timers, stepped, until } = await loopWith('realtime');
    const frames = testFrames(2);
    loop.frame(frames[0]!, 0, clock.now(), 1.5);
    await until(() => stepped.length === 1);
    timers.runTo(1000 + 80 + 55);
    loop.frame(frames[1]!, 1, clock.now(), 0.25);
    await until(() => stepped.length === 2);
    for (const { input, out, record } of stepped) {
      expect(record).toMatchObject({
        session: input.session, step: input.step, inputPcm: input.pcm, pcm: out.pcm, pcmHash: out.pcmHash,
        inputCodes: out.inputCodes, text: out.text, textPiece: out.textPiece, audioCodes: out.audio, events: [...input.events, ...out.events],
      });
      expect(record.spans).toMatchObject(out.spans);
      expect(record.finishedAt).toBe(record.doneAt);
    }
    expect(stepped[0]!.record.spans).toMatchObject({ 'net.recv': 1.5, 'queue.wait': 0 });
    expect(stepped[0]!.record.doneAt).toBe(1000);
    expect(stepped[1]!.record.spans['net.recv']).toBe(0.25);
    expect(stepped[1]!.record.doneAt).toBe(1135);
    expect(stepped[1]!.record.events).toEqual([{ kind: 'late-frame', seq: 1, lateMs: 55 }]);
  });

  it('push (offline replay) steps a frame with the events it is given: no cadence, no timer, no question to beforeStep, no wire spans', async () => {
    const { loop, clock, timers, stepped, until, asked } = await loopWith('realtime');
    const frames = testFrames(3);
    const given: StepEvent[][] = [[{ kind: 'missing-frame', replacement: 'silence' }], [{ kind: 'skipped-decode', reason: 'recorded' }, { kind: 'late-frame', seq: 9, lateMs: 12 }], []];
    for (let k = 0; k < 3; k++) {
      clock.set(5000 + 1000 * k); // far past every slot: frame() would be late or dropped
      expect(loop.push(frames[k]!, given[k]!)).toBe('queued');
      await until(() => stepped.length === k + 1);
    }
    expect(timers.due.size).toBe(0);
    expect(asked()).toBe(0);
    expect(stepped.map((s) => s.input.events)).toEqual(given);
    expect(stepped.map((s) => s.record.doneAt)).toEqual([5000, 6000, 7000]);
    for (const s of stepped) expect(Object.keys(s.record.spans)).not.toContain('net.recv');
    for (const s of stepped) expect(Object.keys(s.record.spans)).not.toContain('queue.wait');
    // The skipped decode was applied: the engine produced no PCM for that step.
    expect(stepped[1]!.out.pcm).toBeNull();
    expect(stepped[1]!.out.audio).not.toBeNull();
  });
});
