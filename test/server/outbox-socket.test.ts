// The send queue in front of a really congested socket: a loopback ws client stops reading
// (ws.pause), the kernel buffers fill, ws.bufferedAmount climbs, and the queue must drop
// text partials, ask for skipped decodes, keep every audio frame, and send in priority
// order once the peer reads again.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeMessage, type Packet } from '../../src/protocol/index.ts';
import { joinPackets, outItem, stamp } from '../../src/server/outbound.ts';
import { SendQueue, type QueueDecision } from '../../src/server/send-queue.ts';

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

describe('SendQueue on a congested loopback socket', () => {
  it('drops partials and skips decodes under pressure, never audio, and sends by priority', async () => {
    const { server, client } = await pair();
    const received: Packet[][] = [];
    client.on('message', (d: Buffer) => received.push(decodeMessage(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))));
    client.pause(); // the peer stops reading

    const AUDIO = 17 + 7680;
    const q = new SendQueue({ highWaterBytes: 16 * AUDIO, skipDecodeBytes: 32 * AUDIO, maxQueuedBytes: 1 << 26 });
    const decisions: QueueDecision[] = [];
    let seq = 0;
    const flush = () => {
      for (;;) {
        const t = q.take(server.bufferedAmount, 8 * AUDIO);
        decisions.push(...t.decisions);
        if (t.items.length === 0) return;
        for (const it of t.items) stamp(it.bytes, seq++, 0);
        server.send(joinPackets(t.items));
      }
    };

    // One "step" = audio + a partial + a metadata, as the session queues them, until the
    // socket is congested and a decode would be skipped (bounded: 64 MB of audio at most).
    let step = 0;
    let skip = null;
    for (; step < 8000 && !skip; step++) {
      for (const it of [outItem({ type: 'METADATA', data: { type: 'gap', step } }, step), outItem({ type: 'TEXT_PARTIAL', text: `{"step":${step}}` }, step, step), outItem({ type: 'AUDIO_CHUNK', samples: new Float32Array(1920).fill(step) }, step)]) {
        const r = q.push(it, server.bufferedAmount);
        expect(r.ok).toBe(true);
        if (r.ok) decisions.push(...r.decisions);
      }
      flush();
      skip = q.skipDecode(server.bufferedAmount);
      // Let the socket write what it can, as the event loop would between steps.
      if (step % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(skip?.kind).toBe('skipped-decode');
    expect(q.congested(server.bufferedAmount)).toBe(true);
    const drops = decisions.filter((d) => d.event.kind === 'dropped-partial');
    expect(drops.length).toBeGreaterThan(0);
    expect(decisions.every((d) => d.event.kind === 'dropped-partial')).toBe(true);
    const steps = step;

    // The peer reads again: everything queued drains.
    client.resume();
    const deadline = performance.now() + 20_000;
    while ((q.length > 0 || server.bufferedAmount > 0 || received.flat().filter((p) => p.type === 'AUDIO_CHUNK').length < steps) && performance.now() < deadline) {
      flush();
      await new Promise((r) => setTimeout(r, 5));
    }
    const all = received.flat();
    const audio = all.filter((p) => p.type === 'AUDIO_CHUNK');
    expect(audio.map((p) => p.samples[0])).toEqual(Array.from({ length: steps }, (_, i) => i)); // every frame, in order
    expect(all.map((p) => p.sequence)).toEqual(all.map((_, i) => i)); // wire order = sequence order
    const partialSteps = all.filter((p) => p.type === 'TEXT_PARTIAL').length;
    expect(partialSteps + drops.length).toBe(steps); // each partial either sent or reported dropped
    expect(all.filter((p) => p.type === 'METADATA')).toHaveLength(steps); // metadata waits, it is not dropped
    // Within each message, packets leave in lane order.
    const lane = (p: Packet) => ({ AUDIO_CHUNK: 0, TEXT_FINAL: 1, TEXT_PARTIAL: 2, METADATA: 3, HEARTBEAT: 3, ACK: 3 })[p.type];
    for (const msg of received) expect(msg.map(lane)).toEqual([...msg.map(lane)].sort((a, b) => a - b));
    // Once congested, metadata was held back behind later audio.
    const firstMetaAfterCongestion = all.findIndex((p, i) => p.type === 'METADATA' && all.slice(0, i).some((x) => x.type === 'AUDIO_CHUNK' && x.samples[0]! > (p.data as { step: number }).step));
    expect(firstMetaAfterCongestion).toBeGreaterThan(-1);
  }, 30_000);
});
