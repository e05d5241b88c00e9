// The packet codec (tinybench): AUDIO_CHUNK encode and validated decode, and small
// TEXT_PARTIAL packets, per packet. Ratios divide by the memory-copy calibration: the
// codec's floor is moving the same bytes.
import { Bench } from 'tinybench';
import { decodePacket, encodePacket, AUDIO_SAMPLES, type Packet } from '../../src/protocol/index.ts';
import type { SuiteDef } from '../lib/suite-api.ts';

const AUDIO_BATCH = 64;
const TEXT_BATCH = 2048;

export const codecSuite: SuiteDef = {
  name: 'codec',
  describe: 'packet codec per packet (tinybench)',
  async setup(ctx) {
    const samples = Float32Array.from({ length: AUDIO_SAMPLES }, (_, i) => Math.sin(i * 0.05) * 0.3);
    const audio: Packet = { type: 'AUDIO_CHUNK', priority: 0, sequence: 12345, timestamp: 1000.5, requiresAck: false, samples };
    const audioBytes = encodePacket(audio);
    const text: Packet = { type: 'TEXT_PARTIAL', priority: 2, sequence: 777, timestamp: 1000.5, requiresAck: false, text: ' hello' };
    const textBytes = encodePacket(text);
    let sink = 0;
    const tasks = [
      { name: 'audio.encode', batch: AUDIO_BATCH, fn: () => { for (let i = 0; i < AUDIO_BATCH; i++) sink += encodePacket(audio).length; } },
      { name: 'audio.decode', batch: AUDIO_BATCH, fn: () => { for (let i = 0; i < AUDIO_BATCH; i++) sink += decodePacket(audioBytes).sequence; } },
      { name: 'text.encode', batch: TEXT_BATCH, fn: () => { for (let i = 0; i < TEXT_BATCH; i++) sink += encodePacket(text).length; } },
      { name: 'text.decode', batch: TEXT_BATCH, fn: () => { for (let i = 0; i < TEXT_BATCH; i++) sink += decodePacket(textBytes).sequence; } },
    ];
    const timeMs = ctx.quick ? 60 : 150;
    return {
      describe: `${tasks.length} tasks, ${timeMs} ms of tinybench samples each per round`,
      figures: tasks.map((t) => ({ name: t.name, calibration: 'memcpy' as const, budget: false })),
      notes: [],
      async round(index, tick) {
        const bench = new Bench({ time: timeMs, warmup: index === 0, warmupTime: 200, retainSamples: true });
        // tinybench runs the tasks back to back: calibrate between them (beforeAll hooks).
        for (const t of tasks) bench.add(t.name, t.fn, { beforeAll: () => { for (let i = 0; i < 5; i++) tick(); } });
        await bench.run();
        const out: Record<string, number[]> = {};
        for (const t of tasks) {
          const r = bench.getTask(t.name)?.result;
          if (!r || !('latency' in r) || !r.latency.samples) throw new Error(`codec task ${t.name} did not complete: ${r && 'error' in r ? String(r.error) : r?.state}`);
          out[t.name] = Array.from(r.latency.samples, (ms) => ms / t.batch);
        }
        if (sink === 0.5) ctx.log(''); // keep the work observable
        return out;
      },
      async close() {},
    };
  },
};
