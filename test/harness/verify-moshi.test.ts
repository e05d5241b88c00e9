// verifySession on Moshi-protocol sessions: the client's 0x01 Ogg Opus messages in packets.bin
// are re-decoded with the libopus build the server used and compared with input.wav frame by
// frame (missing-frame silence and dropped frames as in the packet protocol), and the
// metadata message's `solacelive` ready is checked against the manifest. Input frames are cut
// with the framing the session recorded (wireInfo.inputFraming; none: the old rule, pre-skip
// dropped), so sessions recorded before the encoder framing still verify. Real files, real
// libopus (opusscript's wasm), sessions written by the real SessionWriter.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, pcmHash, SessionWriter, type StepRecord } from '../../harness/format/node.ts';
import { verifySession, type VerifyOptions } from '../../harness/verify.ts';
import { describeLibopus, INPUT_FRAMING, MOSHI_CLIENT_SHAPE, OggOpusEncoder, OpusInputFrames, type InputFraming, type Libopus } from '../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import { encodeMoshi } from '../../src/protocol/moshi/index.ts';
import { decodeFrames } from '../server/moshi/peer.ts';
import { rng, testInit } from './format/session-fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'solacelive-verify-moshi-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let lib: Libopus;
let build: string;
beforeAll(async () => {
  lib = await loadLibopusNode();
  build = describeLibopus(lib.identity);
});
const withLib: VerifyOptions = { libopus: loadLibopusNode };

/** Client audio as Kyutai's web client sends it: one 0x01 message per Ogg page (the EOS page last when `end`). */
function clientMessages(frames: number, seed: number, end = false): Uint8Array[] {
  const random = rng(seed);
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 7 });
  const pages = [...enc.start()];
  for (let k = 0; k < frames; k++) {
    const pcm = Float32Array.from({ length: 1920 }, (_, i) => 0.3 * Math.sin((k * 1920 + i) / 9) + 0.05 * (random() - 0.5));
    pages.push(...enc.push(pcm));
  }
  if (end) pages.push(...enc.end());
  return pages.map((p) => encodeMoshi({ kind: 'audio', data: p }));
}

/** What the server's input side makes of them: the shared framing rule over the byte stream. */
function serverFrames(messages: readonly Uint8Array[], framing: InputFraming = INPUT_FRAMING): Float32Array[] {
  return decodeFrames(lib, messages.map((m) => m.subarray(1)), framing);
}

interface Plan {
  /** Frames fed to the steps, in order; 'silence' for a missing-frame step. */
  readonly inputs: readonly (Float32Array | 'silence')[];
  readonly messages: readonly Uint8Array[];
  readonly readySeed?: number;
  readonly opus?: string | null;
  /** wireInfo.inputFraming as the server recorded it; null: not recorded (a session from before it existed). */
  readonly inputFraming?: string | null;
}

async function writeSession(name: string, p: Plan): Promise<string> {
  const dir = join(tmp, name);
  const init = testInit();
  const framing = p.inputFraming === undefined ? INPUT_FRAMING : p.inputFraming;
  const wireInfo = { query: { text_seed: '1234' }, ignoredParams: [], opus: p.opus === undefined ? build : p.opus, ...(framing === null ? {} : { inputFraming: framing }) };
  const w = await SessionWriter.create(dir, { ...init, meta: { wire: 'moshi', wireInfo } });
  const ready = { type: 'ready', session: 's', model: init.model.id, seed: p.readySeed ?? init.seed, sampling: init.sampling, fingerprint: init.platform };
  w.appendPacket(1, encodeMoshi({ kind: 'metadata', json: { text_temperature: 0.7, solacelive: ready } }), 0);
  w.appendPacket(1, encodeMoshi({ kind: 'handshake', payload: new Uint8Array(0) }), 1);
  for (const [i, m] of p.messages.entries()) w.appendPacket(0, m, 2 + i);
  const random = rng(3);
  for (const [i, input] of p.inputs.entries()) {
    const output = i === 0 ? null : Float32Array.from({ length: 1920 }, () => random() - 0.5);
    const record: StepRecord = {
      step: i, timeMs: 80 * i, inputCodes: [1, 2, 3, 4, 5, 6, 7, 8], text: null, textPiece: null, audioCodes: null,
      pcmHash: output ? pcmHash(output) : null, events: input === 'silence' ? [{ kind: 'missing-frame', replacement: 'silence' }] : [], spans: {},
    };
    w.appendStep(record, input === 'silence' ? new Float32Array(1920) : input, output);
  }
  await w.close();
  return dir;
}

const verify = async (dir: string, o: VerifyOptions = withLib) => verifySession(await openSession(dir), o);

describe('verifySession on a Moshi session', () => {
  it('matches input.wav against the re-decoded client audio, with missing-frame silence and a dropped frame skipped, and the ready fields against the manifest', async () => {
    const messages = clientMessages(8, 1);
    const frames = serverFrames(messages);
    expect(frames.length).toBeGreaterThanOrEqual(7);
    // Step 2 had no frame in time (silence); decoded frame 4 came too late and was dropped.
    const inputs = [frames[0]!, frames[1]!, 'silence' as const, frames[2]!, frames[3]!, frames[5]!, frames[6]!];
    const v = await verify(await writeSession('good.session', { inputs, messages }));
    expect(v.damage).toEqual([]);
    expect(v.checked).toContain(`input.wav: ${inputs.length} of ${inputs.length} frames match the client's audio in packets.bin`);
    expect(v.checked.some((c) => /setup fields match the metadata message's 'solacelive' ready/.test(c))).toBe(true);
    expect(v.unverified.filter((u) => /packets\.bin|input\.wav/.test(u))).toEqual([]);
  });

  it('demuxes the client audio as a byte stream: pages torn across messages verify the same', async () => {
    const whole = clientMessages(5, 7);
    const bytes = new Uint8Array(whole.reduce((n, m) => n + m.length - 1, 0));
    let at = 0;
    for (const m of whole) {
      bytes.set(m.subarray(1), at);
      at += m.length - 1;
    }
    const torn: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) torn.push(encodeMoshi({ kind: 'audio', data: bytes.subarray(i, i + 7) }));
    const frames = serverFrames(whole);
    const v = await verify(await writeSession('torn.session', { inputs: frames, messages: torn }));
    expect(v.damage).toEqual([]);
    expect(v.checked).toContain(`input.wav: ${frames.length} of ${frames.length} frames match the client's audio in packets.bin`);
  });

  it('reports an input.wav frame that is not the decoded client audio as damage at that frame', async () => {
    const messages = clientMessages(6, 2);
    const frames = serverFrames(messages);
    const wrong = frames[3]!.slice();
    wrong[100] = wrong[100]! + 2 ** -20;
    const v = await verify(await writeSession('edited-input.session', { inputs: [frames[0]!, frames[1]!, frames[2]!, wrong, frames[4]!], messages }));
    expect(v.damage).toEqual([expect.objectContaining({ file: 'input.wav', where: 'frame 3', step: 3 })]);
  });

  it('reports a manifest seed that disagrees with the metadata message\'s ready as manifest damage naming the field', async () => {
    const messages = clientMessages(3, 3);
    const frames = serverFrames(messages);
    const v = await verify(await writeSession('seed.session', { inputs: frames, messages, readySeed: 99 }));
    expect(v.damage).toEqual([expect.objectContaining({ file: 'manifest.json', where: 'seed' })]);
    expect(v.damage[0]!.message).toContain("metadata message's 'solacelive' ready");
  });

  it('with another libopus build it says the input cannot be re-decoded bit-exactly and checks the frame count only', async () => {
    const messages = clientMessages(4, 4);
    const frames = serverFrames(messages);
    const other = 'opusscript 0.0.1 (libopus 1.3, sha256:00)';
    const ok = await verify(await writeSession('other-build.session', { inputs: frames, messages, opus: other }));
    expect(ok.damage).toEqual([]);
    expect(ok.unverified.some((u) => u.includes(other) && u.includes('cannot be re-decoded bit-exactly'))).toBe(true);
    // More client frames in input.wav than packets.bin decodes to: damage even without bit-exactness.
    const extra = await verify(await writeSession('other-build-extra.session', { inputs: [...frames, frames[0]!], messages, opus: other }));
    expect(extra.damage).toEqual([expect.objectContaining({ file: 'input.wav' })]);
    expect(extra.damage[0]!.message).toContain(`decodes to only ${frames.length} frames`);
  });

  it('without a libopus it lists input.wav as unverified rather than reporting damage', async () => {
    const messages = clientMessages(3, 5);
    const v = await verify(await writeSession('no-lib.session', { inputs: serverFrames(messages), messages }), {});
    expect(v.damage).toEqual([]);
    expect(v.unverified.some((u) => u.startsWith('input.wav: no libopus was given'))).toBe(true);
    // The ready fields are still checked (they need no decoder).
    expect(v.checked.some((c) => c.includes("'solacelive' ready"))).toBe(true);
  });

  it('a client stream that breaks (bad page CRC) is checked up to the break: the frames before it match, none after', async () => {
    const messages = clientMessages(6, 6).map((m) => m.slice());
    const cut = messages.length - 3;
    messages[cut]![40]! ^= 0xff; // inside an audio page: its CRC no longer holds
    const before = serverFrames(messages.slice(0, cut));
    const v = await verify(await writeSession('broken.session', { inputs: before, messages }));
    expect(v.damage).toEqual([]);
    expect(v.checked.some((c) => c.includes('OGG_ERR_CRC'))).toBe(true);
    expect(v.checked).toContain(`input.wav: ${before.length} of ${before.length} frames match the client's audio in packets.bin`);
  });

  it('cuts with the framing the session recorded: one from before inputFraming (pre-skip dropped) verifies by the old rule', async () => {
    const messages = clientMessages(6, 8);
    const old = serverFrames(messages, 'decoded');
    const now = serverFrames(messages, 'encoder');
    // The rules differ (derived here, not assumed): the encoder framing has one more whole frame and other samples.
    expect(now.length).toBe(old.length + 1);
    expect(now[1]).not.toEqual(old[1]);
    const v = await verify(await writeSession('old-framing.session', { inputs: old, messages, inputFraming: null }));
    expect(v.damage).toEqual([]);
    expect(v.checked).toContain(`input.wav: ${old.length} of ${old.length} frames match the client's audio in packets.bin`);
    // The same old frames under today's label are not what the client's pages cut to.
    const mislabelled = await verify(await writeSession('mislabelled.session', { inputs: old, messages, inputFraming: 'encoder' }));
    expect(mislabelled.damage.length).toBeGreaterThan(0);
    expect(mislabelled.damage[0]).toMatchObject({ file: 'input.wav', where: 'frame 0' });
  });

  it('an unknown inputFraming is listed as unverified, not reported as damage', async () => {
    const messages = clientMessages(3, 9);
    const v = await verify(await writeSession('future-framing.session', { inputs: serverFrames(messages), messages, inputFraming: 'resampled' }));
    expect(v.damage).toEqual([]);
    expect(v.unverified.some((u) => u.includes('inputFraming "resampled" is not a framing this build knows'))).toBe(true);
  });

  it('the client\'s EOS page: the padded last partial frame is the last input frame, as the server steps it', async () => {
    const messages = clientMessages(4, 10, true);
    const input = new OpusInputFrames({ lib, framing: INPUT_FRAMING, onPage: () => undefined });
    for (const m of messages) input.push(m.subarray(1));
    const frames = input.read();
    const last = input.flush();
    const preSkip = Math.ceil(input.head!.preSkip / 2);
    input.close();
    // 4 frames of audio shifted by the pre-skip spill into a 5th, padded at the input's end.
    expect(frames.length + (last ? 1 : 0)).toBe(Math.ceil((4 * 1920 + preSkip) / 1920));
    const inputs = last ? [...frames, last.frame] : frames;
    const v = await verify(await writeSession('eos.session', { inputs, messages }));
    expect(v.damage).toEqual([]);
    expect(v.checked).toContain(`input.wav: ${inputs.length} of ${inputs.length} frames match the client's audio in packets.bin`);
  });
});
