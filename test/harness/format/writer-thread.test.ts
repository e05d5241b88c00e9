// ThreadedSessionWriter (the recorder's writer: records encoded on the caller's loop, files
// written by a worker thread) against SessionWriter: the same appends give the same bytes on
// disk, in every file, also when one turn appends more than the shared ring holds; the same
// errors are thrown at the call or reported; and the format's encoders still give the bytes
// the committed fixture was recorded with.
import { createHook } from 'node:async_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionWriter, ThreadedSessionWriter, openSession, encodePacketRecord, encodePacketsHeader, encodeStepLine, encodeStepsHeader } from '../../../harness/format/node.ts';
import type { SessionError, StepRecord } from '../../../harness/format/node.ts';
import { INPUT_WAV, OUTPUT_WAV, PACKETS_FILE, STEPS_FILE } from '../../../harness/format/layout.ts';
import { directStepJson, directStepOk } from '../../../harness/format/steps.ts';
import { PACKET_WAIT_MS, readStepFields, stepFieldsBound, writeStepFields } from '../../../harness/format/writer-thread-protocol.ts';
import { propParams } from '../../props.ts';
import { stepArb } from './arbitraries.ts';
import { makeStep, rng, testInit, type TestStep } from './session-fixtures.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'solacelive-thread-writer-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FILES = [PACKETS_FILE, STEPS_FILE, INPUT_WAV, OUTPUT_WAV] as const;
const steps = (n: number, seed: number): TestStep[] => {
  const random = rng(seed);
  return Array.from({ length: n }, (_, i) => makeStep(i, i * 80, random));
};

/** Appends the steps as a server does (packet in, step, packet out), `perTurn` steps per event-loop turn. */
async function record(w: SessionWriter | ThreadedSessionWriter, all: readonly TestStep[], perTurn: number): Promise<void> {
  for (let i = 0; i < all.length; i++) {
    const s = all[i]!;
    w.appendPacket(s.packets[0]!.direction, s.packets[0]!.bytes, s.packets[0]!.timeMs);
    w.appendStep(s.record, s.input, s.output);
    w.appendPacket(s.packets[1]!.direction, s.packets[1]!.bytes, s.packets[1]!.timeMs);
    if ((i + 1) % perTurn === 0) await new Promise((r) => setImmediate(r));
  }
}

async function sameFiles(a: string, b: string): Promise<void> {
  for (const f of FILES) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
  const [ma, mb] = [await openSession(a), await openSession(b)];
  expect(mb.manifest.status).toBe('complete');
  expect(mb.manifest.counts).toEqual(ma.manifest.counts);
  // setupSha256 covers createdAt, which differs; the files' digests must not.
  expect(mb.manifest.integrity!.files).toEqual(ma.manifest.integrity!.files);
}

describe('ThreadedSessionWriter', () => {
  it.each([
    ['one step per turn (a live session)', 40, 1],
  ])('writes the same bytes as SessionWriter: %s', async (_, n, perTurn) => {
    const all = steps(n, 7);
    const [a, b] = [join(tmp, `loop-${n}.session`), join(tmp, `thread-${n}.session`)];
    const loop = await SessionWriter.create(a, testInit());
    const thread = await ThreadedSessionWriter.create(b, testInit());
    await record(loop, all, perTurn);
    await record(thread, all, perTurn);
    expect(thread.stats).toMatchObject({ steps: n, packets: 2 * n, dropped: 0 });
    const [ra, rb] = [await loop.close(), await thread.close()];
    expect(rb).toEqual({ ...ra });
    expect(thread.state).toBe('closed');
    await sameFiles(a, b);
    const read: StepRecord[] = [];
    for await (const { offset: _, ...r } of (await openSession(b)).steps()) read.push(r);
    expect(read).toEqual(all.map((s) => s.record));
  });

  it('writes the same bytes as SessionWriter with a message too big for the ring (3 MiB) between steps', async () => {
    const all = steps(6, 5);
    const big = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) & 0xff);
    const [a, b] = [join(tmp, 'big-loop.session'), join(tmp, 'big-thread.session')];
    const writers = [await SessionWriter.create(a, testInit()), await ThreadedSessionWriter.create(b, testInit())];
    for (const w of writers) {
      await record(w, all.slice(0, 3), 1);
      w.appendPacket(1, big, 500);
      await record(w, all.slice(3), 1);
    }
    await Promise.all(writers.map((w) => w.close()));
    await sameFiles(a, b);
  });

  it('a thread more than its ring behind stops the recording with SESSION_ERR_BACKLOG, in the manifest too; what came before is on disk', async () => {
    // 600 tiny steps in one turn (~19 MB) before the thread may read any: a thread starved that long.
    const all = steps(600, 4);
    const dir = join(tmp, 'backlog.session');
    const errors: SessionError[] = [];
    const w = await ThreadedSessionWriter.create(dir, testInit(), { onError: (e) => errors.push(e) });
    await record(w, all, all.length);
    expect(w.state).toBe('failed');
    expect(errors.map((e) => e.code)).toEqual(['SESSION_ERR_BACKLOG']);
    const accepted = w.stats.steps;
    expect(accepted).toBeGreaterThan(400);
    expect(accepted).toBeLessThan(600);
    expect(w.stats.dropped).toBeGreaterThan(0);
    const closed = await w.close();
    expect(closed).toMatchObject({ status: 'failed', error: { code: 'SESSION_ERR_BACKLOG' } });
    const s = await openSession(dir);
    expect(s.manifest).toMatchObject({ status: 'failed', error: { code: 'SESSION_ERR_BACKLOG' } });
    const read: StepRecord[] = [];
    for await (const { offset: _, ...r } of s.steps()) read.push(r);
    // Every step accepted (nothing accepted is lost), and none after.
    expect(read).toEqual(all.slice(0, accepted).map((x) => x.record));
    expect(closed.counts.steps).toBe(accepted);
  });

  it('costs the loop no timer per step: one setImmediate per turn publishes it; a packet alone reaches the disk by the thread\'s own timeout', async () => {
    const dir = join(tmp, 'no-timers.session');
    const w = await ThreadedSessionWriter.create(dir, testInit());
    const all = steps(20, 12);
    const made: string[] = [];
    // Counts only what the appends create, synchronously: the hook is on just around them.
    const hook = createHook({ init: (_id, type) => made.push(type) });
    for (const s of all) {
      hook.enable();
      w.appendPacket(s.packets[0]!.direction, s.packets[0]!.bytes, s.packets[0]!.timeMs);
      w.appendStep(s.record, s.input, s.output);
      w.appendPacket(s.packets[1]!.direction, s.packets[1]!.bytes, s.packets[1]!.timeMs);
      hook.disable();
      await new Promise((r) => setImmediate(r));
    }
    expect(made.filter((t) => t === 'Timeout')).toEqual([]);
    expect(made.filter((t) => t === 'Immediate')).toHaveLength(all.length);
    // A packet with no step after it: no wake, no timer here; the thread reads it within PACKET_WAIT_MS.
    const last = makeStep(all.length, all.length * 80, rng(3)).packets[0]!;
    w.appendPacket(last.direction, last.bytes, last.timeMs);
    const packetsFile = join(dir, PACKETS_FILE);
    const want = [...all.flatMap((s) => s.packets), last].reduce((n, p) => n + encodePacketRecord(p.direction, p.timeMs, p.bytes).length, encodePacketsHeader().length);
    const until = Date.now() + 10_000;
    while (readFileSync(packetsFile).length < want && Date.now() < until) await new Promise((r) => setTimeout(r, PACKET_WAIT_MS));
    expect(readFileSync(packetsFile).length).toBe(want);
    await w.close();
  });

  it('flush() resolves once what was appended is on disk', async () => {
    const dir = join(tmp, 'flushed.session');
    const w = await ThreadedSessionWriter.create(dir, testInit());
    const all = steps(3, 9);
    await record(w, all, 3);
    await w.flush();
    const onDisk: StepRecord[] = [];
    for await (const { offset: _, ...r } of (await openSession(dir)).steps()) onDisk.push(r);
    expect(onDisk).toEqual(all.map((s) => s.record));
    await w.close();
  });

  it('throws SESSION_ERR_INVALID at the call, as SessionWriter does, and writes nothing of it', async () => {
    const [a, b] = [join(tmp, 'invalid-loop.session'), join(tmp, 'invalid-thread.session')];
    const writers = [await SessionWriter.create(a, testInit()), await ThreadedSessionWriter.create(b, testInit())];
    const s = steps(2, 3);
    const bad: [string, (w: SessionWriter | ThreadedSessionWriter) => void][] = [
      ['a short input frame', (w) => w.appendStep(s[0]!.record, new Float32Array(10), s[0]!.output)],
      ['NaN in a span', (w) => w.appendStep({ ...s[0]!.record, spans: { 'step.total': Number.NaN } }, s[0]!.input, s[0]!.output)],
      ['a direction of 2', (w) => w.appendPacket(2 as 0, new Uint8Array(3), 0)],
      ['a negative time', (w) => w.appendPacket(0, new Uint8Array(3), -1)],
    ];
    for (const [what, call] of bad) {
      const messages = writers.map((w) => {
        try {
          call(w);
        } catch (err) {
          expect((err as SessionError).code, what).toBe('SESSION_ERR_INVALID');
          return (err as Error).message;
        }
        throw new Error(`${what}: accepted`);
      });
      expect(messages[1], what).toBe(messages[0]);
    }
    for (const w of writers) w.appendStep(s[1]!.record, s[1]!.input, s[1]!.output);
    const again = writers.map((w) => { try { w.appendStep(s[0]!.record, s[0]!.input, s[0]!.output); } catch (err) { return (err as Error).message; } return 'accepted'; });
    expect(again[0]).toMatch(/does not follow step 1/);
    expect(again[1]).toBe(again[0]);
    await Promise.all(writers.map((w) => w.close()));
    await sameFiles(a, b);
  });

  it('create fails as SessionWriter.create does: SESSION_ERR_EXISTS, SESSION_ERR_UNWRITABLE, SESSION_ERR_INVALID', async () => {
    const taken = join(tmp, 'taken.session');
    await (await SessionWriter.create(taken, testInit())).close();
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    await mkdir(join(tmp, 'fresh.session'));
    const cases: [string, string, object][] = [
      [taken, 'SESSION_ERR_EXISTS', testInit()],
      [join(file, 'x.session'), 'SESSION_ERR_UNWRITABLE', testInit()],
      [join(tmp, 'fresh.session'), 'SESSION_ERR_INVALID', { ...testInit(), seed: 'x' }],
    ];
    for (const [dir, code, init] of cases) {
      const loop = await SessionWriter.create(dir, init as ReturnType<typeof testInit>).then(() => null, (e: SessionError) => e);
      const thread = await ThreadedSessionWriter.create(dir, init as ReturnType<typeof testInit>).then(() => null, (e: SessionError) => e);
      expect(loop?.code, dir).toBe(code);
      expect(thread?.code, dir).toBe(code);
      expect(thread?.message).toBe(loop?.message);
    }
  });
});

describe('a step handed over as fields (the thread writes its line)', () => {
  it('is any step directStepOk accepts, and its line from the fields is the line of the step', () => {
    fc.assert(fc.property(stepArb(), fc.boolean(), (step, noEvents) => {
      const r = noEvents ? { ...step, events: [] } : step;
      if (!directStepOk(r)) {
        // Only events or a textPiece with a lone surrogate keep a valid step on the loop.
        expect(r.events.length > 0 || (r.textPiece !== null && !r.textPiece.isWellFormed())).toBe(true);
        return;
      }
      expect(directStepJson(r)).not.toBeNull();
      const bytes = new Uint8Array(stepFieldsBound(r) + 8);
      const view = new DataView(bytes.buffer);
      const n = writeStepFields(r, bytes, view, 8);
      expect(n).toBeLessThanOrEqual(stepFieldsBound(r));
      expect(Buffer.from(encodeStepLine(readStepFields(r.step, bytes, view, 8))).equals(Buffer.from(encodeStepLine(r)))).toBe(true);
    }), propParams());
  });
});

describe('the format is a contract: the encoders give the committed fixture\'s bytes', () => {
  const fixture = new URL('../../../fixtures/sessions/hello-2s.session/', import.meta.url).pathname;

  it('every steps.jsonl line, the header included', async () => {
    const bytes = readFileSync(join(fixture, STEPS_FILE));
    const lines: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const nl = bytes.indexOf(0x0a, at);
      lines.push(bytes.subarray(at, nl + 1));
      at = nl + 1;
    }
    expect(Buffer.from(encodeStepsHeader()).equals(lines[0]!)).toBe(true);
    let k = 1;
    for await (const { offset: _, ...step } of (await openSession(fixture)).steps()) {
      expect(Buffer.from(encodeStepLine(step)).equals(lines[k]!), `line ${k + 1}`).toBe(true);
      k++;
    }
    expect(k).toBe(lines.length);
  });

  it('every packets.bin record, the header included', async () => {
    const bytes = readFileSync(join(fixture, PACKETS_FILE));
    const parts = [Buffer.from(encodePacketsHeader())];
    for await (const p of (await openSession(fixture)).packets()) parts.push(Buffer.from(encodePacketRecord(p.direction, p.timeMs, p.bytes)));
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
  });
});
