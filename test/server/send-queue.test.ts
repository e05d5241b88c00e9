import { describe, expect, it } from 'vitest';
import { decodeMessage, type Packet } from '../../src/protocol/index.ts';
import { joinPackets, outItem, stamp } from '../../src/server/outbound.ts';
import { SendQueue, type OutItem } from '../../src/server/send-queue.ts';

const AUDIO = 17 + 7680;
const limits = { highWaterBytes: 4 * AUDIO, skipDecodeBytes: 8 * AUDIO, maxQueuedBytes: 20 * AUDIO };

const audio = (step: number) => outItem({ type: 'AUDIO_CHUNK', samples: new Float32Array(1920).fill(step / 100) }, step);
const partial = (step: number, token = 100 + step) => outItem({ type: 'TEXT_PARTIAL', text: JSON.stringify({ step, token, piece: 'x' }) }, step, token);
const final = () => outItem({ type: 'TEXT_FINAL', text: '{"text":"hi"}' }, null);
const meta = (n: number) => outItem({ type: 'METADATA', data: { type: 'gap', step: n } }, n);
const heartbeat = () => outItem({ type: 'HEARTBEAT' }, null);
const ack = (seq: number) => outItem({ type: 'ACK', ackSequence: seq }, null);

function pushAll(q: SendQueue, items: OutItem[], buffered = 0) {
  for (const it of items) expect(q.push(it, buffered).ok).toBe(true);
}

describe('SendQueue order', () => {
  it('sends AUDIO_CHUNK > TEXT_FINAL > TEXT_PARTIAL > METADATA/HEARTBEAT/ACK, FIFO within each', () => {
    const q = new SendQueue(limits);
    pushAll(q, [meta(1), partial(1), heartbeat(), audio(1), final(), ack(7), partial(2), audio(2), meta(2)]);
    const { items } = q.take(0, 1 << 20);
    expect(items.map((i) => `${i.type}:${i.step ?? '-'}`)).toEqual([
      'AUDIO_CHUNK:1', 'AUDIO_CHUNK:2', 'TEXT_FINAL:-', 'TEXT_PARTIAL:1', 'TEXT_PARTIAL:2', 'METADATA:1', 'HEARTBEAT:-', 'ACK:-', 'METADATA:2',
    ]);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it('puts the queue lane in the wire priority byte (0 audio … 3 control)', () => {
    const prio = [audio(0), final(), partial(0), meta(0), heartbeat(), ack(1)].map((i) => (decodeMessage(i.bytes)[0] as Packet).priority);
    expect(prio).toEqual([0, 1, 2, 3, 3, 3]);
  });

  it('takes at most what fits under the high water mark, but always one packet on an idle socket', () => {
    const q = new SendQueue(limits);
    pushAll(q, [audio(0), audio(1), audio(2), audio(3), audio(4), audio(5)]);
    expect(q.take(0, 1 << 20).items).toHaveLength(4);
    expect(q.take(3 * AUDIO + 1, 1 << 20).items).toHaveLength(1); // over budget, but something must move
    expect(q.take(0, 1).items).toHaveLength(1); // batch limit smaller than one packet
    expect(q.length).toBe(0);
  });

  it('keeps one heartbeat waiting, not several', () => {
    const q = new SendQueue(limits);
    pushAll(q, [heartbeat(), heartbeat(), heartbeat()]);
    expect(q.length).toBe(1);
  });
});

describe('SendQueue under pressure', () => {
  it('drops new text partials while the socket is over the high water mark, as events with their step', () => {
    const q = new SendQueue(limits);
    const item = partial(7, 4242);
    const r = q.push(item, limits.highWaterBytes);
    expect(r).toEqual({ ok: true, decisions: [{ step: 7, event: { kind: 'dropped-partial', token: 4242 }, item }] });
    expect(q.length).toBe(0);
  });

  it('drops queued partials (and only them) when it finds the socket congested', () => {
    const q = new SendQueue(limits);
    pushAll(q, [audio(1), partial(1, 11), meta(1), partial(2, 12)]);
    const t = q.take(limits.highWaterBytes, 1 << 20);
    expect(t.items).toEqual([]);
    expect(t.decisions.map((d) => [d.step, d.event])).toEqual([
      [1, { kind: 'dropped-partial', token: 11 }],
      [2, { kind: 'dropped-partial', token: 12 }],
    ]);
    expect(q.depth()).toEqual({ AUDIO_CHUNK: 1, METADATA: 1 });
    expect(q.take(0, 1 << 20).items.map((i) => i.type)).toEqual(['AUDIO_CHUNK', 'METADATA']);
  });

  it('asks to skip a decode when buffered + queued bytes reach the limit, and says why', () => {
    const q = new SendQueue(limits);
    expect(q.skipDecode(0)).toBeNull();
    expect(q.skipDecode(limits.skipDecodeBytes - 1)).toBeNull();
    pushAll(q, [audio(1), audio(2)]);
    const e = q.skipDecode(limits.skipDecodeBytes - AUDIO);
    expect(e?.kind).toBe('skipped-decode');
    expect(e && 'reason' in e ? e.reason : '').toMatch(/send backlog \d+ bytes/);
  });

  it('never drops audio: a full queue refuses with a slow-consumer reason instead', () => {
    const q = new SendQueue(limits);
    for (let i = 0; i < 20; i++) expect(q.push(audio(i), 1 << 30).ok).toBe(true);
    const r = q.push(audio(20), 1 << 30);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/slow consumer/);
    expect(q.depth().AUDIO_CHUNK).toBe(20);
    // A partial is dropped (an event), not a reason to close.
    expect(q.push(partial(3), 0)).toMatchObject({ ok: true, decisions: [{ event: { kind: 'dropped-partial' } }] });
  });

  it('reports congestion only over the high water mark', () => {
    const q = new SendQueue(limits);
    expect(q.congested(limits.highWaterBytes - 1)).toBe(false);
    expect(q.congested(limits.highWaterBytes)).toBe(true);
  });
});

describe('outbound packets', () => {
  it('are stamped with sequence and timestamp when sent, and a batch decodes as the packets in order', () => {
    const items = [audio(3), partial(3), meta(3)];
    items.forEach((it, i) => stamp(it.bytes, 0xfffffffe + i >>> 0, 1000.5 + i));
    const packets = decodeMessage(joinPackets(items));
    expect(packets.map((p) => [p.type, p.sequence, p.timestamp])).toEqual([
      ['AUDIO_CHUNK', 0xfffffffe, 1000.5],
      ['TEXT_PARTIAL', 0xffffffff, 1001.5],
      ['METADATA', 0, 1002.5],
    ]);
    expect((packets[0] as Extract<Packet, { type: 'AUDIO_CHUNK' }>).samples[0]).toBeCloseTo(0.03);
  });

  it('joinPackets returns a single packet without copying', () => {
    const a = audio(1);
    expect(joinPackets([a])).toBe(a.bytes);
  });
});
