// Sessions against the real engine over loopback WebSockets: one output per frame, the same
// tokens and samples as the engine run offline, isolation between concurrent sessions,
// late/missing frames as events, ACKs, and a peer that stops reading.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResult } from '../../../src/client/client.ts';
import { connect } from '../../../src/client/connect.ts';
import { finishedSpans, type FinishedStep } from '../../../src/engine/step-record.ts';
import { DEFAULT_SAMPLING, type StepOutput } from '../../../src/engine/types.ts';
import { decodeMessage, type Packet } from '../../../src/protocol/index.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { SessionHooks } from '../../../src/server/hooks.ts';
import type { ReadyMessage } from '../../../src/server/messages.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import type { StepEvent } from '../../../src/telemetry/events.ts';
import { Peer } from '../wire.ts';
import { startEngine, testFrames, waitFor } from './engine.ts';

let engine: EnginePort;
const servers: SolaceServer[] = [];

beforeAll(async () => {
  engine = await startEngine();
});
afterAll(async () => {
  await engine?.close();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(options: ServerOptions = {}, hooks: SessionHooks = {}) {
  // Isolation and cadence are under test, not admission: a fixed bound, so a loaded machine's
  // measured per-step cost cannot refuse the third concurrent session.
  const server = createServer({ port: 0, admission: 'max-sessions', ...options }, engine, hooks);
  servers.push(server);
  return { server, url: (await server.start()).url };
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));

async function offline(frames: readonly Float32Array[], seed: number): Promise<StepOutput[]> {
  const id = `offline-${seed}-${Math.random().toString(36).slice(2)}`;
  await engine.openSession(id, { seed, sampling: DEFAULT_SAMPLING });
  const out: StepOutput[] = [];
  for (let k = 0; k < frames.length; k++) out.push(await engine.step({ session: id, step: k, pcm: frames[k]!, events: [] }));
  await engine.closeSession(id);
  return out;
}

function expectSameAsOffline(r: SessionResult, off: readonly StepOutput[]): void {
  // Text: a partial for every step whose token shows something, with that token.
  const shown = off.filter((o) => o.text !== null && o.textPiece !== '');
  expect(r.partials.map((p) => [p.step, p.token])).toEqual(shown.map((o) => [o.step, o.text]));
  // Audio: step-aligned output equals the offline PCM bit for bit (silence where there was none).
  off.forEach((o, k) => {
    const slot = r.audio.subarray(k * 1920, (k + 1) * 1920);
    if (o.pcm) expect(slot).toEqual(o.pcm);
    else expect(slot.every((x) => x === 0)).toBe(true);
  });
}

describe('one step per frame', () => {
  it('answers every frame once, in order, with the tokens and samples of the same frames run offline', async () => {
    const steps: FinishedStep[] = [];
    // Audio chunks handed to the socket when each record came: its audio must have left first.
    let audioSent = 0;
    const audioSentAt: number[] = [];
    const { url, server } = await serve({}, {
      onOutbound: (_id, bytes) => {
        audioSent += decodeMessage(bytes).filter((p) => p.type === 'AUDIO_CHUNK').length;
      },
      onStepFinished: (_id, record) => {
        steps.push(record);
        audioSentAt.push(audioSent);
      },
    });
    const frames = testFrames(40);
    const c = await connect(url, { seed: 1234, sampling: 'default', pace: 'fast' });
    expect(c.ready).toMatchObject({ model: engine.info!.model, seed: 1234, sampling: DEFAULT_SAMPLING, pace: 'fast' });
    const r = await c.run(frames);
    expect(r.ok).toBe(true);
    expect(r.close).toEqual({ code: 1000, reason: 'session ended' });
    expect(r.ended).toMatchObject({ steps: 40, framesReceived: 40 });
    // One record per step, in order, complete: input, output, spans through net.send.
    expect(steps.map((s) => s.step)).toEqual(frames.map((_, k) => k));
    steps.forEach((s, k) => {
      expect(s.inputPcm).toEqual(frames[k]);
      expect(s.finishedAt).toBeGreaterThanOrEqual(s.doneAt);
      expect(Object.keys(s.spans).sort()).toEqual(s.pcm
        ? ['lm.depformer', 'lm.temporal', 'mimi.decode', 'mimi.encode', 'net.recv', 'net.send', 'queue.wait', 'step.total']
        : ['lm.depformer', 'lm.temporal', 'mimi.encode', 'net.recv', 'queue.wait', 'step.total']);
      // What the budget counts: frame arrival → last reply item written, which holds every part.
      const e2e = finishedSpans(s).e2e!;
      expect(e2e).toBe(s.finishedAt - s.arrivedAt!);
      const parts = (s.spans['net.recv'] ?? 0) + (s.spans['queue.wait'] ?? 0) + s.spans['step.total']! + (s.spans['net.send'] ?? 0);
      expect(e2e + 0.01, `step ${k}: e2e vs the sum of its parts`).toBeGreaterThanOrEqual(parts);
      // Emitted only after its audio was written: every audio chunk up to this step had gone out.
      expect(audioSentAt[k]).toBeGreaterThanOrEqual(steps.slice(0, k + 1).filter((x) => x.pcm).length);
    });
    expect(r.audioFrames + r.gaps.length).toBe(40);
    // Steps without audio are the warm-up at the start, nothing else.
    expect(r.gaps.map((g) => [g.step, g.reason])).toEqual(r.gaps.map((_, i) => [i, 'warm-up']));
    expect(r.errors).toEqual([]);
    expectSameAsOffline(r, await offline(frames, 1234));
    const h = server.health();
    expect(h.spans['step.total']?.count).toBeGreaterThanOrEqual(40);
    for (const span of ['net.recv', 'queue.wait', 'net.send', 'mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode'] as const) {
      expect(h.spans[span]?.count, span).toBeGreaterThan(0);
    }
    expect(h.realTimeFactor).toBeGreaterThan(0);
    // The window's e2e is every step's, and at least its model work.
    expect(h.spans.e2e?.count).toBe(h.spans['step.total']?.count);
    expect(h.budget.realTimeFactor).toBe(h.realTimeFactor);
    expect(h.budget.realTimeFactor!).toBeGreaterThanOrEqual(h.budget.engineRealTimeFactor!);
  });

  it('keeps concurrent sessions apart: same seed and frames give the same output as a session alone', async () => {
    const { url } = await serve();
    const frames = testFrames(25, 7);
    const results = await Promise.all([0, 1, 2].map(async () => (await connect(url, { seed: 99, pace: 'fast' })).run(frames)));
    const alone = await offline(frames, 99);
    for (const r of results) {
      expect(r.ok).toBe(true);
      expectSameAsOffline(r, alone);
    }
  });

  it('ACKs frames that ask for it, and numbers its own packets 0, 1, 2 … in wire order', async () => {
    const { url } = await serve();
    const p = new Peer(url);
    await p.opened;
    p.send({ type: 'METADATA', data: { type: 'start', seed: 1, pace: 'fast' } } as Partial<Packet>);
    await p.until((x) => x.metadata().some((m) => m.type === 'ready'), 10_000, 'ready');
    const [frame] = testFrames(1);
    p.send({ type: 'AUDIO_CHUNK', priority: 0, requiresAck: true, samples: frame! } as Partial<Packet>);
    await p.until((x) => x.received.some((r) => r.packet.type === 'ACK' && r.packet.ackSequence === 1), 10_000, 'ACK of frame seq 1');
    await p.until((x) => x.metadata().some((m) => m.type === 'gap') || x.received.some((r) => r.packet.type === 'AUDIO_CHUNK'), 10_000, 'the step output');
    expect(p.received.map((r) => r.packet.sequence)).toEqual(p.received.map((_, i) => i));
    p.ws.close();
  });
});

describe('cadence at real-time pace', () => {
  it('runs silence for frames that do not come, drops them when they do, and keeps one step per slot', async () => {
    const inputs: FinishedStep[] = [];
    const { url } = await serve({ missingFrameMs: 240, lateToleranceMs: 40 }, { onStepFinished: (_id, record) => inputs.push(record) });
    const c = await connect(url, { seed: 5, pace: 'realtime' });
    const frames = testFrames(30, 3);
    const t0 = performance.now();
    for (let k = 0; k < 30; k++) {
      // Frames 10.. are held back 600 ms (a network stall), then sent in a burst and on time after.
      await sleepUntil(t0 + k * 80 + (k >= 10 ? 600 : 0));
      c.sendFrame(frames[k]!);
    }
    const r = await c.end();
    expect(r.ok).toBe(true);
    expect(r.ended).toMatchObject({ steps: 30, framesReceived: 30 });
    const all: StepEvent[] = inputs.flatMap((i) => i.events);
    const missing = all.filter((e) => e.kind === 'missing-frame').length;
    const dropped = all.filter((e) => e.kind === 'dropped-frame').length;
    expect(missing).toBeGreaterThanOrEqual(3);
    expect(dropped).toBe(missing);
    expect(inputs.map((i) => i.step)).toEqual(inputs.map((_, k) => k));
    // The client was told, step by step, and left those steps out of its latency figures.
    const told = r.events.flatMap((m) => m.events.filter((e) => e.kind === 'missing-frame').map(() => m.step));
    expect(told).toEqual(inputs.filter((i) => i.events.some((e) => e.kind === 'missing-frame')).map((i) => i.step));
    expect(r.latency.replaced).toBe(missing);
    expect(r.latency.p50).toBeGreaterThan(0);
  });
});

describe('a peer that stops reading', () => {
  it('gets text partials dropped, decodes skipped, then a slow-consumer close; no audio lost, memory bounded, others unaffected', async () => {
    const records: FinishedStep[] = [];
    let id = '';
    const maxSendQueueBytes = 512 * 1024;
    const { url, server } = await serve({ slowConsumerMs: 1500, closeTimeoutMs: 20_000, maxSendQueueBytes }, {
      onStepFinished: (sid, record) => {
        if (sid === id) records.push(record);
      },
    });
    const p = new Peer(url);
    await p.opened;
    p.send({ type: 'METADATA', data: { type: 'start', seed: 2, pace: 'fast' } } as Partial<Packet>);
    await p.until((x) => x.metadata().some((m) => m.type === 'ready'), 10_000, 'ready');
    id = (p.metadata().find((m) => m.type === 'ready') as ReadyMessage).session;
    const other = connect(url, { seed: 3, pace: 'fast' }).then((c) => c.run(testFrames(30, 9)));

    p.ws.pause();
    const [frame] = testFrames(1, 4);
    let sent = 0;
    let maxQueued = 0;
    const deadline = performance.now() + 100_000;
    // Send as fast as the engine steps (one frame ahead), until the server gives up on us.
    while (server.sessions.get(id)?.state === 'streaming' && sent < 4000 && performance.now() < deadline) {
      if (sent - (server.sessions.get(id)?.steps ?? 0) < 2) {
        p.send({ type: 'AUDIO_CHUNK', priority: 0, samples: frame! } as Partial<Packet>);
        sent++;
      } else {
        await new Promise((r) => setTimeout(r, 2));
      }
      maxQueued = Math.max(maxQueued, server.sessions.get(id)?.summary().sendQueueBytes ?? 0);
    }
    expect(server.sessions.get(id)?.state).toBe('closing');
    expect(maxQueued).toBeLessThanOrEqual(maxSendQueueBytes);

    // Read again: everything the server queued arrives, audio first in each message, then the reason.
    p.ws.resume();
    const c = await p.closeWithin(30_000);
    expect(c.code).toBe(1008);
    expect(c.reason).toMatch(/congested|slow consumer/);
    expect(p.errors().at(-1)).toMatchObject({ code: 'SLOW_CONSUMER', fatal: true });
    await waitFor(() => !server.sessions.has(id), 10_000, 'the session to close');
    // Every step stepped left as one record, in order, with the decisions taken after it.
    const steps = records.length;
    expect(records.map((x) => x.step)).toEqual(records.map((_, k) => k));
    const events: StepEvent[] = records.flatMap((x) => x.events);
    expect(events.some((e) => e.kind === 'skipped-decode')).toBe(true);
    // A dropped partial is in the record of the step whose token it carried.
    for (const x of records) for (const e of x.events) if (e.kind === 'dropped-partial') expect(e.token).toBe(x.text);
    const audio = p.received.filter((r) => r.packet.type === 'AUDIO_CHUNK').length;
    const gaps = p.metadata().filter((m) => m.type === 'gap').length;
    // Every step's output was delivered (the one in flight when the server gave up may not be).
    expect(audio + gaps).toBeGreaterThanOrEqual(steps - 1);
    expect(audio + gaps).toBeLessThanOrEqual(steps);
    expect(audio).toBeGreaterThan(0);
    for (const msg of p.messages) expect(msg.map((x) => x.priority)).toEqual(msg.map((x) => x.priority).sort((a, b) => a - b));
    const dropped = events.filter((e) => e.kind === 'dropped-partial').length;
    const partials = p.received.filter((r) => r.packet.type === 'TEXT_PARTIAL').length;
    expect(dropped).toBeGreaterThan(0);
    expect(partials + dropped).toBeLessThanOrEqual(steps);
    expect((await other).ok).toBe(true);
  }, 180_000); // fills ~4 MB of loopback socket buffers at the engine's pace
});
