// The outbox (send queue + writer) in front of a really congested socket: a loopback ws
// client stops reading (ws.pause), the kernel buffers fill, ws.bufferedAmount climbs, and it
// must drop text partials, ask for skipped decodes, report the slow consumer, keep every
// audio frame, and send in priority order once the peer reads again.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeMessage, type Packet } from '../../src/protocol/index.ts';
import { outItem, packetFraming } from '../../src/server/outbound.ts';
import { Outbox, type ItemFate } from '../../src/server/outbox.ts';
import type { OutItem, QueueDecision } from '../../src/server/send-queue.ts';
import { realClock } from '../../src/telemetry/clock.ts';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

async function pair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  cleanup.push(() => {
    client.terminate();
    server.terminate();
    wss.close();
  });
  return { server, client };
}

describe('Outbox and SendQueue on a congested loopback socket', () => {
  it('drops partials and skips decodes under pressure, reports the slow consumer, never loses audio, and sends by priority', async () => {
    const { server, client } = await pair();
    const received: Packet[][] = [];
    client.on('message', (d: Buffer) => received.push(decodeMessage(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))));
    client.pause(); // the peer stops reading

    const AUDIO = 17 + 7680;
    const decisions: QueueDecision[] = [];
    const slow: string[] = [];
    const written: number[] = [];
    const fates = new Map<OutItem, ItemFate['kind'][]>();
    const box = new Outbox(
      { get bufferedAmount() { return server.bufferedAmount; }, send: (d, cb) => server.send(d, { binary: true }, cb) },
      { sendHighWaterBytes: 16 * AUDIO, skipDecodeBytes: 32 * AUDIO, maxSendQueueBytes: 1 << 26, slowConsumerMs: 300, clock: realClock },
      {
        sent: () => undefined,
        settled: (item, fate) => {
          fates.set(item, [...(fates.get(item) ?? []), fate.kind]);
          if (fate.kind === 'dropped') decisions.push(fate.decision);
          if (fate.kind === 'written' && item.role === 'audio') written.push(item.step!);
        },
        slowConsumer: (r) => slow.push(r),
        idle: () => undefined,
      },
      packetFraming(),
    );
    cleanup.push(() => box.stop());

    // One "step" = metadata + a partial + audio, queued as a session queues them, until a
    // decode would be skipped (bounded: at most 8000 steps, 62 MB of audio).
    let step = 0;
    let skip = null;
    const queued: OutItem[] = [];
    const enqueue = (it: OutItem) => {
      queued.push(it);
      box.enqueue(it);
    };
    for (; step < 8000 && !skip; step++) {
      enqueue(outItem({ type: 'METADATA', data: { type: 'gap', step } }, step));
      enqueue(outItem({ type: 'TEXT_PARTIAL', text: `{"step":${step}}` }, step, step));
      enqueue(outItem({ type: 'AUDIO_CHUNK', samples: new Float32Array(1920).fill(step) }, step));
      await new Promise((r) => setImmediate(r)); // the flush runs between steps, as in a session
      skip = box.skipDecode();
    }
    expect(skip?.kind).toBe('skipped-decode');
    const drops = decisions.filter((d) => d.event.kind === 'dropped-partial');
    expect(drops.length).toBeGreaterThan(0);
    expect(decisions.every((d) => d.event.kind === 'dropped-partial')).toBe(true);
    const steps = step;
    // Still congested after slowConsumerMs: the session would be told to close.
    const deadline0 = performance.now() + 5000;
    while (slow.length === 0 && performance.now() < deadline0) await new Promise((r) => setTimeout(r, 20));
    expect(slow[0]).toMatch(/socket congested for \d+ ms: the peer is not reading/);

    // The peer reads again: everything queued drains.
    client.resume();
    const deadline = performance.now() + 20_000;
    while ((box.length > 0 || received.flat().filter((p) => p.type === 'AUDIO_CHUNK').length < steps) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const all = received.flat();
    const audio = all.filter((p) => p.type === 'AUDIO_CHUNK');
    expect(audio.map((p) => p.samples[0])).toEqual(Array.from({ length: steps }, (_, i) => i)); // every frame, in order
    expect(written).toEqual(Array.from({ length: steps }, (_, i) => i)); // each timed once, at its write
    expect(all.map((p) => p.sequence)).toEqual(all.map((_, i) => i)); // wire order = sequence order
    const partials = all.filter((p) => p.type === 'TEXT_PARTIAL').length;
    expect(partials + drops.length).toBe(steps); // each partial either sent or reported dropped
    expect(all.filter((p) => p.type === 'METADATA')).toHaveLength(steps); // metadata waits, it is not dropped
    // Every item queued has exactly one fate: written, or (partials only) dropped with its decision.
    expect(queued.map((it) => fates.get(it))).toEqual(queued.map((it) => [it.role === 'partial' && decisions.some((d) => d.item === it) ? 'dropped' : 'written']));
    expect(decisions.every((d) => d.step === d.item.step && d.event.kind === 'dropped-partial' && d.event.token === d.item.token)).toBe(true);
    // Within each message, packets leave in priority order (0 audio … 3 control).
    for (const msg of received) expect(msg.map((p) => p.priority)).toEqual(msg.map((p) => p.priority).sort((a, b) => a - b));
    // Under congestion, metadata was held back behind later audio.
    const heldBack = all.findIndex((p, i) => p.type === 'METADATA' && all.slice(0, i).some((x) => x.type === 'AUDIO_CHUNK' && x.samples[0]! > (p.data as { step: number }).step));
    expect(heldBack).toBeGreaterThan(-1);
  }, 30_000);
});
