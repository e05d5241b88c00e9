// Packet ↔ step mapping of the packet table on the recorded fixture: client frame k is step
// k, a server message is the step its TEXT_PARTIAL or gap names, handshake packets none;
// and on a freshly recorded Moshi-protocol session, where the mapping goes by order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibopusNode, MOSHI_SERVER_SHAPE, OggOpusEncoder, OpusInputFrames } from '../../src/audio/index.ts';
import { openSession, type ReadStep } from '../../harness/format/node.ts';
import { describeRow, inputFramingOf, packetRow, packetRowReader, wireOf, type PacketRow } from '../../harness/view/packets.ts';
import { packetStepLines } from '../../viewer/src/data/packet-steps.ts';
import { encodeMoshi } from '../../src/protocol/moshi/index.ts';
import { recordMoshiSession, type MoshiSession } from './moshi-session.ts';

/** An Ogg Opus stream's two header pages (OpusHead, OpusTags), as the server's first audio message holds them. */
let headerPages: Uint8Array;
beforeAll(async () => {
  const enc = new OggOpusEncoder({ lib: await loadLibopusNode(), shape: MOSHI_SERVER_SHAPE, serial: 42 });
  headerPages = Uint8Array.from(enc.start().flatMap((p) => [...p]));
});

const FIXTURE = new URL('../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;

describe('packetStepLines on the fixture session', () => {
  it('maps every frame, reply and gap to its step and leaves the rest unmapped', async () => {
    const r = await openSession(FIXTURE);
    const steps: ReadStep[] = [];
    for await (const s of r.steps()) steps.push(s);
    const rows: PacketRow[] = [];
    for await (const p of r.packets()) rows.push(packetRow(rows.length, p.direction, p.timeMs, p.bytes));
    const lines = packetStepLines(rows, steps);
    let frame = 0;
    rows.forEach((row, k) => {
      const types = row.packets.map((p) => p.type);
      const named = row.packets.find((p) => p.step !== null)?.step;
      if (row.direction === 0 && types.includes('AUDIO_CHUNK')) expect(lines[k], `frame ${frame}`).toBe(frame++);
      else if (named !== undefined) expect(lines[k], `message ${k} names step ${named}`).toBe(named);
      else expect(lines[k], `message ${k} (${types.join('+')})`).toBe(-1);
    });
    expect(frame).toBe(steps.length);
    // Every step with output audio has its server message.
    const replied = new Set([...lines].filter((l, k) => l >= 0 && rows[k]!.direction === 1));
    expect(steps.filter((s, i) => s.pcmHash !== null && !replied.has(i))).toEqual([]);
  });
});

describe('packetStepLines on Moshi server messages', () => {
  it('maps the k-th audio message after the Opus headers to the k-th step with PCM, and text pieces to the steps that have one', () => {
    const step = (n: number, pcm: boolean, piece: string | null) => ({ step: n, pcmHash: pcm ? 'x'.repeat(32) : null, text: piece === null ? null : 7, textPiece: piece }) as unknown as ReadStep;
    // Step 1 produced no PCM (warm-up) but a piece; the server sends each step's audio, then its text.
    const steps = [step(0, true, null), step(1, false, 'a'), step(2, true, '\u2581b'), step(3, true, null)];
    const row = packetRowReader('moshi');
    const msgs = [
      encodeMoshi({ kind: 'metadata', json: {} }), encodeMoshi({ kind: 'handshake', payload: new Uint8Array(0) }),
      encodeMoshi({ kind: 'audio', data: headerPages }),
      encodeMoshi({ kind: 'audio', data: new Uint8Array(0) }), encodeMoshi({ kind: 'text', text: 'a' }),
      encodeMoshi({ kind: 'audio', data: new Uint8Array(0) }), encodeMoshi({ kind: 'text', text: ' b' }), encodeMoshi({ kind: 'ping' }),
      encodeMoshi({ kind: 'audio', data: new Uint8Array(0) }),
    ];
    const rows = msgs.map((m, i) => row(i, 1, i, m));
    expect([...packetStepLines(rows, steps)]).toEqual([-1, -1, -1, 0, 1, 2, 2, -1, 3]);
  });
});

// A session recorded on the Moshi protocol (Node Moshi client → /api/chat of a real loopback
// server on the tiny engine): the mapping by order must agree with what the server did. The
// client message that completes input frame k is found independently by feeding the
// recorded client messages to the server's framing rule (OpusInputFrames), as its wire does.
describe('packetStepLines on a recorded Moshi session', () => {
  const FRAMES = 20;
  let session: MoshiSession;
  beforeAll(async () => {
    session = await recordMoshiSession(FRAMES);
  }, 120_000);
  afterAll(() => session?.dispose());

  it('maps the message completing client frame k to step k, each server audio reply to its step, and control messages to none', async () => {
    const r = await openSession(session.path);
    expect(r.manifest.meta.wire).toBe('moshi');
    const steps: ReadStep[] = [];
    for await (const s of r.steps()) steps.push(s);
    const rows: PacketRow[] = [];
    const row = packetRowReader(wireOf(r.manifest), inputFramingOf(r.manifest));
    const bytes: Uint8Array[] = [];
    for await (const p of r.packets()) {
      rows.push(row(rows.length, p.direction, p.timeMs, p.bytes));
      bytes.push(p.bytes.slice());
    }
    expect(rows.filter((x) => x.error !== null)).toEqual([]);
    const lines = packetStepLines(rows, steps);

    // The server's view: which client message completed each input frame.
    const lib = await loadLibopusNode();
    let eos = false;
    const input = new OpusInputFrames({ lib, framing: inputFramingOf(r.manifest), onPage: (pg) => { if (pg.eos) eos = true; } });
    const completes: number[] = []; // message index per input frame
    rows.forEach((x, k) => {
      if (x.direction !== 0 || x.packets[0]?.type !== 'audio' || eos) return;
      input.push(bytes[k]!.subarray(1));
      let n = input.read().length;
      if (eos && input.flush()) n++;
      for (let i = 0; i < n; i++) completes.push(k);
    });
    const preSkip = Math.ceil(input.head!.preSkip / 2);
    input.close();
    // The client's FRAMES frames on its encoder's boundaries, and the tail behind the pre-skip the EOS page pads.
    const encoded = Math.ceil((FRAMES * 1920 + preSkip) / 1920);
    expect(completes.length).toBe(encoded);
    expect(rows.filter((x) => x.direction === 0).reduce((a, x) => a + x.frames, 0)).toBe(encoded);
    completes.forEach((k, frame) => {
      // A message completing two frames selects the first of them.
      if (completes[frame - 1] !== k) expect(lines[k], `message ${k} completes frame ${frame}`).toBe(frame);
    });
    const fromClient = new Set(completes);
    rows.forEach((x, k) => {
      if (x.direction === 0 && !fromClient.has(k)) expect(lines[k], `client message ${k} (${describeRow(x)})`).toBe(-1);
    });

    // Replies: one server audio message per step with PCM, sent once the step's result was in.
    const replies = rows.map((x, k) => ({ x, k })).filter(({ x, k }) => x.direction === 1 && lines[k]! >= 0);
    expect(replies.every(({ x }) => x.packets[0]!.type === 'audio' && x.pages.length > 0)).toBe(true);
    expect(replies.map(({ k }) => steps[lines[k]!]!.step)).toEqual(steps.filter((s) => s.pcmHash !== null).map((s) => s.step));
    for (const { x, k } of replies) expect(x.timeMs, `reply message ${k}`).toBeGreaterThanOrEqual(steps[lines[k]!]!.timeMs);
    // The metadata, handshake, Opus header message and pings belong to no step.
    const unmapped = rows.filter((x, k) => x.direction === 1 && lines[k] === -1).map((x) => x.packets[0]!.type);
    expect(new Set(unmapped)).toEqual(new Set(unmapped.filter((t) => t === 'metadata' || t === 'handshake' || t === 'ping' || t === 'audio')));
    expect(rows.find((x) => x.direction === 1 && x.packets[0]!.type === 'audio')!.pages.map((p) => p.content)).toEqual(['OpusHead', 'OpusTags']);
  }, 60_000);
});
