// A session recorded on the Moshi protocol (the Node Moshi client → /api/chat of a real
// loopback server, tiny engine child process): recorded whole, replayed offline with the
// verdict its platform fingerprint allows, and paced on the Moshi protocol again: the
// recorded Ogg Opus messages to /api/chat at their times make a new session equal to it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitFrames } from '../../../src/audio/frames.ts';
import { INPUT_FRAMING, MOSHI_CLIENT_SHAPE, OggOpusEncoder } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { toMono24k } from '../../../src/audio/resample.ts';
import { readWavSync } from '../../../src/audio/wav-file.ts';
import { connectMoshi, moshiQuery, MOSHI_WARMUP_FRAMES, type MoshiResult } from '../../../src/client/moshi.ts';
import { DEFAULT_SAMPLING } from '../../../src/engine/types.ts';
import { MOSHI_KINDS } from '../../../src/protocol/moshi/index.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import { createServer } from '../../../src/server/server.ts';
import { satisfies } from '../../../harness/compare.ts';
import { setupSha256 } from '../../../harness/format/index.ts';
import { openSession } from '../../../harness/format/node.ts';
import { pacedReplay } from '../../../harness/paced.ts';
import { recordFrames, type RecordResult } from '../../../harness/record.ts';
import { replaySession } from '../../../harness/replayer.ts';
import { Recorder } from '../../../harness/recorder.ts';
import { verifySession } from '../../../harness/verify.ts';
import { startEngine } from '../../server/live/engine.ts';

const STEPS = 25; // 2 s of the fixture
const dir = mkdtempSync(join(tmpdir(), 'solacelive-moshi-replay-'));
let engine: EnginePort;
let rec: RecordResult;
let frames: Float32Array[];
/** The client encoder's pre-skip (48 kHz samples). */
let preSkip: number;

beforeAll(async () => {
  engine = await startEngine();
  const lib = await loadLibopusNode();
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
  preSkip = enc.preSkip;
  enc.end();
  const wav = readWavSync(new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname);
  frames = splitFrames(toMono24k(wav.channels, wav.sampleRate).samples).frames.slice(0, STEPS);
  // A slot is replaced by silence only after 10 s here: a loaded test machine delays frames
  // (late-frame events, which change nothing), and a replaced slot in one run but not the
  // other would make the paced replay diverge for reasons outside what this file tests.
  rec = await recordFrames(frames, { out: join(dir, 'moshi.session'), engine, seed: 4321, protocol: 'moshi', server: { missingFrameMs: 10_000 } });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('recording over the Moshi protocol', () => {
  it('the client is answered for every frame after the warm-up; the session is whole, on the Moshi wire, with the seeds asked for', async () => {
    const c = rec.client as MoshiResult;
    expect(c.ok, JSON.stringify({ ...c, audio: c.audio.length })).toBe(true);
    expect(c.framesSent).toBe(STEPS);
    expect(c.audioFrames).toBeGreaterThanOrEqual(STEPS - MOSHI_WARMUP_FRAMES);
    // Frames fall on the client encoder's boundaries: the input's tail behind the pre-skip, sent
    // with the EOS page, is one more frame the server steps and answers (derived from the encoder).
    const encoded = Math.ceil((STEPS * 1920 + Math.ceil(preSkip / 2)) / 1920);
    expect(encoded).toBeGreaterThan(STEPS);
    expect(c.latency.count).toBe(encoded - MOSHI_WARMUP_FRAMES);
    expect(c.latency.unmatched).toBe(0);
    // Every reply arrives after its frame was sent: the order-derived pairing never runs ahead.
    expect(c.latency.p50).toBeGreaterThan(0);
    expect(c.session).toBe(rec.status.session);
    expect(rec.seed).toBe(4321);
    expect(rec.status.state).toBe('closed');
    const r = await openSession(rec.path, { strict: true });
    expect(r.manifest.status).toBe('complete');
    expect(r.manifest.meta.wire).toBe('moshi');
    expect((r.manifest.meta.wireInfo as { query: Record<string, string> }).query).toMatchObject({ text_seed: '4321', audio_seed: '4321', record: '1' });
    // How the server cut the client's audio, for verify and replay (older sessions lack it).
    expect((r.manifest.meta.wireInfo as { inputFraming?: string }).inputFraming).toBe(INPUT_FRAMING);
    expect(r.manifest.seed).toBe(4321);
    expect(r.manifest.sampling).toEqual(DEFAULT_SAMPLING);
    // Every frame sent (and the tail) is a step. The protocol has no end message, so a server keeps its
    // cadence until the client closes: a step after the input (load delayed the close past
    // the missing-frame timer) can only be one run with silence.
    const steps = [];
    for await (const st of r.steps()) steps.push(st);
    expect(steps.length).toBeGreaterThanOrEqual(encoded);
    expect(steps.map((st) => st.step)).toEqual(steps.map((_, i) => i));
    for (const st of steps.slice(encoded)) expect(st.events.map((e) => e.kind)).toContain('missing-frame');
    let pages = 0;
    for await (const p of r.packets()) if (p.direction === 0 && p.bytes[0] === MOSHI_KINDS.audio) pages++;
    // Ogg Opus as Kyutai's client sends it: OpusHead, OpusTags, then one page per 40 ms.
    expect(pages).toBeGreaterThanOrEqual(2 + STEPS * 2);
  });
});

describe('replays of a Moshi-protocol session', () => {
  it('offline: the verdict its platform fingerprint allows (bit-exact on the machine that recorded)', async () => {
    const r = await replaySession(rec.path, { engine });
    expect(r.stepsReplayed).toBeGreaterThanOrEqual(STEPS);
    expect(satisfies(r.comparison.kind, r.expected), r.verdict).toBe(true);
    if (r.fingerprintDiffs.length === 0) expect(r.expected).toBe('bit-exact');
  });

  it('paced: the recorded client messages go to /api/chat at their times and make a new session equal to the recording', async () => {
    const p = await pacedReplay(rec.path, { engine, out: join(dir, 'paced.session'), server: { missingFrameMs: 10_000 } });
    expect(p.protocol).toBe('moshi');
    expect(p.client.ok).toBe(true);
    const sent = [];
    for await (const x of (await openSession(rec.path)).packets()) if (x.direction === 0) sent.push(x.bytes);
    expect(p.framesSent).toBe(sent.length);
    // The paced client waits for as many replies as the recording has: the same steps.
    expect(p.diff.steps.b).toBe(p.diff.steps.a);
    expect(p.diff.steps.a).toBeGreaterThanOrEqual(STEPS);
    expect(p.diff.setupDiffs).toEqual([]);
    expect(satisfies(p.diff.comparison.kind, p.diff.fingerprintDiffs.length ? 'token-exact' : 'bit-exact'), p.diff.comparison.verdict).toBe(true);
    const paced = await openSession(p.out, { strict: true });
    expect(paced.manifest.meta.wire).toBe('moshi');
    // Byte for byte: the server was sent exactly the recorded client messages.
    const again = [];
    for await (const x of paced.packets()) if (x.direction === 0) again.push(x.bytes);
    expect(again).toEqual(sent);
  }, 120_000);
});

/**
 * A session as a server before the encoder framing recorded it: that server's cut asked for
 * (input_framing=decoded: the pre-skip dropped), then the manifest as it wrote it — no
 * wireInfo.inputFraming, no input_framing in the query — with its setup digest made anew.
 */
async function recordOldFraming(out: string): Promise<string> {
  const recorder = new Recorder({ dir, mode: 'requested', engineInfo: () => engine.info, name: () => out });
  const server = createServer({ port: 0, host: '127.0.0.1', missingFrameMs: 10_000 }, engine, recorder);
  const { url } = await server.start();
  try {
    const c = await connectMoshi(url, { query: { ...moshiQuery({ seed: 99, record: true }), input_framing: 'decoded' } });
    const r = await c.run(frames);
    expect(r.ok).toBe(true);
  } finally {
    await server.stop();
    await recorder.closeAll();
  }
  const path = join(dir, out);
  const file = join(path, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as { meta: { wireInfo: { inputFraming?: string; query: Record<string, string> } }; integrity: { setupSha256: string } };
  expect(m.meta.wireInfo.inputFraming).toBe('decoded');
  delete m.meta.wireInfo.inputFraming;
  delete m.meta.wireInfo.query.input_framing;
  m.integrity.setupSha256 = setupSha256(m as unknown as Record<string, unknown>);
  writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
  return path;
}

describe('a Moshi session recorded before the encoder framing (pre-skip dropped; no inputFraming in its manifest)', () => {
  let old: string;
  beforeAll(async () => {
    old = await recordOldFraming('old-framing.session');
  }, 120_000);

  it('verifies by the old rule: every input frame matches the client audio re-decoded with the pre-skip dropped', async () => {
    const r = await openSession(old, { strict: true });
    expect((r.manifest.meta.wireInfo as Record<string, unknown>).inputFraming).toBeUndefined();
    const v = await verifySession(r, { libopus: loadLibopusNode });
    expect(v.damage).toEqual([]);
    // The old rule makes exactly the frames sent (no tail behind the pre-skip): derived, not assumed.
    const steps = (await r.scan()).wholeSteps;
    expect(v.checked.some((c) => new RegExp(`^input\\.wav: ${STEPS} of ${steps} frames match`).test(c)), v.checked.join('\n')).toBe(true);
  });

  it('replays offline and paced: the paced server is asked for the old framing and makes the same session', async () => {
    const offline = await replaySession(old, { engine });
    expect(satisfies(offline.comparison.kind, offline.expected), offline.verdict).toBe(true);
    const p = await pacedReplay(old, { engine, out: join(dir, 'old-paced.session'), server: { missingFrameMs: 10_000 } });
    expect(p.diff.steps.b).toBe(p.diff.steps.a);
    expect(satisfies(p.diff.comparison.kind, p.diff.fingerprintDiffs.length ? 'token-exact' : 'bit-exact'), p.diff.comparison.verdict).toBe(true);
    const paced = await openSession(p.out, { strict: true });
    expect((paced.manifest.meta.wireInfo as Record<string, unknown>).inputFraming).toBe('decoded');
  }, 120_000);
});
