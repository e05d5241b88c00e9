// A ten-minute session (7,500 steps, 15,000 audio-sized packets, ~235 MB) written through the
// writer and read back through the chunked reader: write cost per step, and reader memory
// that stays flat instead of growing with the files. Figures are printed for the notes.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionWriter, openSession, pcmHash } from '../../../harness/format/node.ts';
import type { StepRecord } from '../../../harness/format/node.ts';
import { testInit } from './session-fixtures.ts';

const STEPS = 7500;
const PACKET_BYTES = 7697; // one AUDIO_CHUNK packet: 17-byte header + 1920 float32 samples
const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

let tmp: string;
let dir: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'solacelive-big-'));
  dir = join(tmp, 'big.session');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// V8 frees ArrayBuffer memory on a background thread after a GC, so without this a sample
// taken right after gc() still counts chunks that are already garbage, at random.
v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');

/** Retained memory (after a full GC), so garbage from consumed chunks does not count. */
function retained(): number {
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('a large session', () => {
  it('writes 7,500 steps and 15,000 packets with a small cost per step', async () => {
    const writer = await SessionWriter.create(dir, testInit(), { fsyncIntervalMs: 1000 });
    const message = new Uint8Array(PACKET_BYTES).map((_, i) => i * 7);
    const input = new Float32Array(1920).map((_, i) => Math.sin(i / 9));
    const output = new Float32Array(1920).map((_, i) => Math.cos(i / 7));
    const hash = pcmHash(output);
    let appendMs = 0;
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) {
      const step: StepRecord = {
        step: i, timeMs: i * 80, inputCodes: [i & 2047, 1, 2, 3, 4, 5, 6, 7], text: i % 32000, textPiece: '▁word', audioCodes: [9, 8, 7, 6, 5, 4, 3, 2],
        pcmHash: hash, events: i % 100 === 0 ? [{ kind: 'late-frame', seq: i, lateMs: 3.5 }] : [],
        spans: { 'net.recv': 0.1, 'queue.wait': 0.2, 'mimi.encode': 4.1, 'lm.temporal': 30.2, 'lm.depformer': 12.3, 'mimi.decode': 4.4, 'net.send': 0.1, 'step.total': 51.4 },
      };
      message[0] = i & 0xff;
      const a = performance.now();
      writer.appendPacket(0, message, i * 80);
      writer.appendStep(step, input, output);
      writer.appendPacket(1, message, i * 80 + 50);
      appendMs += performance.now() - a;
      // A live session yields between steps (80 ms apart); let the queued writes go out.
      if (i % 25 === 24) {
        await new Promise((r) => setImmediate(r));
        while (writer.stats.pendingBytes > 8 * MiB) await new Promise((r) => setTimeout(r, 1));
      }
    }
    const closed = await writer.close();
    const totalMs = performance.now() - t0;
    expect(closed.status).toBe('complete');
    const bytes = ['packets.bin', 'steps.jsonl', 'input.wav', 'output.wav'].reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const perStepUs = (appendMs / STEPS) * 1000;
    console.log(`write: ${STEPS} steps + ${2 * STEPS} packets, ${(bytes / MiB).toFixed(1)} MiB; caller-side cost ${perStepUs.toFixed(1)} µs/step (${((perStepUs / 80_000) * 100).toFixed(3)}% of an 80 ms step); end to end incl. close ${(totalMs / 1000).toFixed(2)} s = ${((STEPS / totalMs) * 1000).toFixed(0)} steps/s, ${((bytes / MiB) / (totalMs / 1000)).toFixed(0)} MiB/s`);
    // Budget: the recorder may cost 1% of an 80 ms step; appends must sit far below it.
    expect(perStepUs).toBeLessThan(800);
  });

  it('reads it back through the chunked reader with flat memory', async () => {
    expect(gc, 'vitest runs with --expose-gc (vitest.config.ts)').toBeTypeOf('function');
    const fileBytes = ['packets.bin', 'steps.jsonl', 'input.wav', 'output.wav'].reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const base = retained();
    const rss0 = process.memoryUsage().rss;
    let peak = 0;
    let peakRss = 0;
    const sample = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss - rss0);
      peak = Math.max(peak, retained() - base);
    };
    const s = await openSession(dir);
    const t0 = performance.now();
    let packets = 0, steps = 0, frames = 0, packetBytes = 0;
    for await (const p of s.packets()) {
      packetBytes += p.bytes.length;
      if (++packets % 1500 === 0) sample();
    }
    for await (const st of s.steps()) {
      expect(st.step).toBe(steps);
      if (++steps % 750 === 0) sample();
    }
    for (const which of ['input', 'output'] as const) {
      for await (const f of (await s.wav(which)).frames()) {
        expect(f.length).toBe(1920);
        if (++frames % 1500 === 0) sample();
      }
    }
    const readMs = performance.now() - t0;
    sample();
    expect([packets, steps, frames, packetBytes]).toEqual([2 * STEPS, STEPS, 2 * STEPS, 2 * STEPS * PACKET_BYTES]);
    expect(s.recoveries).toEqual([]);
    console.log(`read: ${(fileBytes / MiB).toFixed(1)} MiB in ${(readMs / 1000).toFixed(2)} s (${((fileBytes / MiB) / (readMs / 1000)).toFixed(0)} MiB/s); peak retained memory above baseline ${(peak / MiB).toFixed(2)} MiB (RSS growth before each forced GC: ${(peakRss / MiB).toFixed(1)} MiB)`);
    // Flat: a few 256 KiB chunks and a record, not the ~220 MiB of files.
    expect(peak).toBeLessThan(8 * MiB);
  });
});
