// Response lag a Moshi client sees, per frame (its last page sent → its 80 ms of reply back),
// through the Node Moshi client streaming at real time as Kyutai's client does (one page per
// 40 ms). Cut on the client encoder's boundaries, a frame is stepped when its own pages are in;
// cut after the pre-skip (the old framing, still served for replays of old sessions), it waited
// for the first page of the next frame: one page more. Same server, same audio, the two
// framings interleaved so load affects both alike; the expectation is derived from the page
// shape, not from this machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOSHI_CLIENT_SHAPE, type InputFraming } from '../../../src/audio/opus/index.ts';
import { connectMoshi, moshiQuery } from '../../../src/client/moshi.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { startEngine, testFrames } from '../live/engine.ts';

const FRAMES = 25;
const ROUNDS = 3;
/** How long one client page holds: the old framing's extra wait. */
const PAGE_MS = MOSHI_CLIENT_SHAPE.frameMs * MOSHI_CLIENT_SHAPE.packetsPerPage;

let engine: EnginePort;
let server: SolaceServer;
let url: string;

beforeAll(async () => {
  engine = await startEngine();
  server = createServer({ port: 0, host: '127.0.0.1' }, engine);
  url = (await server.start()).url;
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await engine?.close();
});

/** One real-time session; its per-frame lag p50 (ms). */
async function lagP50(framing: InputFraming): Promise<number> {
  const c = await connectMoshi(url, { query: { ...moshiQuery({ seed: 11 }), input_framing: framing } });
  const r = await c.run(testFrames(FRAMES, 4));
  expect(r.ok, `${framing}: ${JSON.stringify({ ...r, audio: r.audio.length })}`).toBe(true);
  expect(r.latency.unmatched).toBe(0);
  return r.latency.p50;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('Moshi response lag and the input framing', () => {
  it('frames cut on the client encoder boundaries are answered about one client page sooner than frames cut after the pre-skip', async () => {
    const lag: Record<InputFraming, number[]> = { encoder: [], decoded: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const framing of (round % 2 === 0 ? ['decoded', 'encoder'] : ['encoder', 'decoded']) as InputFraming[]) lag[framing].push(await lagP50(framing));
    }
    const drop = median(lag.decoded) - median(lag.encoder);
    // The old wait is one page (the next frame's first); load jitter moves both framings alike.
    expect(drop, JSON.stringify({ ...lag, PAGE_MS })).toBeGreaterThan(PAGE_MS / 2);
    expect(drop, JSON.stringify({ ...lag, PAGE_MS })).toBeLessThan(PAGE_MS * 1.5);
  }, 120_000);
});
