// The server's Moshi input frames are the client's frames: the Node Moshi client (Kyutai's
// page shape: 20 ms packets, 2 per page) sends the pages of exactly N frames and then nothing
// (no EOS page, socket left open), and the server steps and answers all N. Cut after the
// decoder's pre-skip, the last frame would wait for 156 samples of a frame that never comes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Libopus } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { connectMoshi, type MoshiClient } from '../../../src/client/moshi.ts';
import type { FinishedStep } from '../../../src/engine/step-record.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { startEngine, testFrames, waitFor } from '../live/engine.ts';
import { decodeFrames } from './peer.ts';

const N = 6;
/** Long enough that a loaded machine never fills a slot with silence before its frame (sent in one burst) arrives. */
const MISSING_FRAME_MS = 2000;

let engine: EnginePort;
let lib: Libopus;
let server: SolaceServer;
let url: string;
const steps = new Map<string, FinishedStep[]>();

beforeAll(async () => {
  [engine, lib] = await Promise.all([startEngine(), loadLibopusNode()]);
  server = createServer({ port: 0, host: '127.0.0.1', missingFrameMs: MISSING_FRAME_MS }, engine, {
    onStepFinished: (id, f) => steps.set(id, [...(steps.get(id) ?? []), f]),
  });
  url = (await server.start()).url;
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await engine?.close();
});

describe('Moshi input frames on the client encoder boundaries', () => {
  it('steps and answers all N frames once their pages arrived, with no EOS and the socket open', async () => {
    const sent: Uint8Array[] = [];
    const c: MoshiClient = await connectMoshi(url, { query: { text_seed: 5, audio_seed: 5 }, onOutbound: (b) => sent.push(b.slice()) });
    try {
      const id = c.solacelive!.session;
      for (const f of testFrames(N, 9)) c.sendFrame(f);
      // The client sent N frames' pages and nothing more; the server's slots after N are filled
      // with silence once overdue, so N steps of any kind come; each of the first N must be real.
      await waitFor(() => (steps.get(id)?.length ?? 0) >= N, 30_000, `${N} steps`);
      const first = steps.get(id)!.slice(0, N);
      expect(first.map((s) => s.events.map((e) => e.kind)), 'no slot of a sent frame ran with silence').toEqual(first.map(() => []));
      // Each step's input is the client's frame as the shared framing rule cuts it from the pages sent.
      const frames = decodeFrames(lib, sent.map((m) => m.subarray(1)));
      expect(frames).toHaveLength(N);
      first.forEach((s, k) => expect(s.inputPcm, `step ${k}`).toEqual(frames[k]));
      // Answered: every frame after the warm-up gets its 80 ms back (steps past N are silence steps' audio).
      const warmup = first.findIndex((s) => s.pcm !== null);
      expect(warmup).toBeGreaterThanOrEqual(0);
      expect(first.slice(warmup).every((s) => s.pcm !== null)).toBe(true);
      await waitFor(() => c.result().audioFrames >= N - warmup, 30_000, 'the replies to all N frames');
    } finally {
      await c.settle({ quietMs: 0, maxWaitMs: 0 });
    }
  }, 60_000);
});
