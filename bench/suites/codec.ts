// The packet codec (tinybench): AUDIO_CHUNK encode and validated decode, and small
// TEXT_PARTIAL packets, per packet. Ratios divide by the memory-copy calibration: the
// codec's floor is moving the same bytes.
// The Moshi protocol's Ogg Opus, per 80 ms Mimi frame: opus.encode is the reply path (upstream
// server shape, 2 × 40 ms packets on 2 pages: the latency Opus adds to each reply) and
// opus.decode the input path (web-client shape pages, 4 × 20 ms packets, demuxed and decoded).
// Opus is CPU work, not copying: its ratios divide by the matmul calibration.
// Floors, timed in the same rounds: allocating and copying the same bytes (encode and decode
// each hand back a new buffer): the packet for the packet codec, the 80 ms PCM frame for Opus.
// Opus is far from its copy floor by nature; the ratio says how far.
import { Bench } from 'tinybench';
import { FRAME_SAMPLES } from '../../src/audio/frames.ts';
import { loadLibopusNode, MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusDecoder, OggOpusEncoder, type Libopus } from '../../src/audio/index.ts';
import { decodePacket, encodePacket, AUDIO_SAMPLES, type Packet } from '../../src/protocol/index.ts';
import { speechLikeFrames } from '../lib/signal.ts';
import type { CalibrationKernel } from '../lib/results.ts';
import type { SuiteDef } from '../lib/suite-api.ts';

const AUDIO_BATCH = 64;
const TEXT_BATCH = 2048;
const OPUS_BATCH = 4;
/** Frames of client pages decoded before the decoder restarts (outside the timing) on a fresh stream. */
const OPUS_STREAM_FRAMES = 64;

interface CodecTask {
  readonly name: string;
  readonly batch: number;
  readonly calibration: CalibrationKernel;
  readonly budget: boolean;
  /** The floor task timed beside it (its name in FLOOR_TASKS order). */
  readonly floor: string;
  readonly fn: () => void;
  /** Outside the timing, before each batch. */
  readonly beforeEach?: () => void;
}

/** One 80 ms frame's client pages each, from a stream of OPUS_STREAM_FRAMES frames, and its header pages. */
function clientStream(lib: Libopus, frame: (i: number) => Float32Array): { header: Uint8Array[]; frames: Uint8Array[][] } {
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
  const header = enc.start();
  const frames = Array.from({ length: OPUS_STREAM_FRAMES }, (_, i) => enc.push(frame(i)));
  if (frames.some((f) => f.length !== 2)) throw new Error('client shape should give 2 pages per 80 ms frame');
  return { header, frames };
}

function warmOpus(lib: Libopus, frame: (i: number) => Float32Array, client: { header: Uint8Array[]; frames: Uint8Array[][] }): void {
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 1 });
  for (let i = 0; i < 500; i++) enc.push(frame(i));
  enc.end();
  for (let pass = 0; pass < 8; pass++) {
    const dec = new OggOpusDecoder({ lib });
    for (const page of [...client.header, ...client.frames.flat()]) dec.push(page);
    dec.read();
    dec.close();
  }
}

export const codecSuite: SuiteDef = {
  name: 'codec',
  describe: 'packet codec per packet, Ogg Opus per 80 ms frame (tinybench)',
  async setup(ctx) {
    const samples = Float32Array.from({ length: AUDIO_SAMPLES }, (_, i) => Math.sin(i * 0.05) * 0.3);
    const audio: Packet = { type: 'AUDIO_CHUNK', priority: 0, sequence: 12345, timestamp: 1000.5, requiresAck: false, samples };
    const audioBytes = encodePacket(audio);
    const text: Packet = { type: 'TEXT_PARTIAL', priority: 2, sequence: 777, timestamp: 1000.5, requiresAck: false, text: ' hello' };
    const textBytes = encodePacket(text);
    let sink = 0;
    const lib = await loadLibopusNode();
    const speech = speechLikeFrames(FRAME_SAMPLES, 7);
    const opusEncoder = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 42 });
    opusEncoder.start();
    let encoded = 0;
    const client = clientStream(lib, speech);
    // WebAssembly starts on a baseline compiler and tiers up hot functions as they run: run the
    // codec before round 1 (its 200 ms tinybench warm-up is too short), or round 1 alone is slow.
    warmOpus(lib, speech, client);
    let opusDecoder = new OggOpusDecoder({ lib });
    let decoded = OPUS_STREAM_FRAMES;
    const restartDecoderIfDone = (): void => {
      if (decoded + OPUS_BATCH <= OPUS_STREAM_FRAMES) return;
      opusDecoder.close();
      opusDecoder = new OggOpusDecoder({ lib });
      for (const page of client.header) opusDecoder.push(page);
      decoded = 0;
    };
    // Floors: a new buffer of the same bytes, filled by a copy (what encode or decode hands back at the least).
    const pcmBytes = Buffer.from(new Float32Array(speech(0)).buffer);
    const copyOf = (src: Uint8Array) => Buffer.from(src.buffer, src.byteOffset, src.byteLength);
    const floorSources: Record<string, Buffer> = { 'copy.packet': copyOf(audioBytes), 'copy.text': copyOf(textBytes), 'copy.pcm': pcmBytes };
    const floorTasks = Object.entries(floorSources).map(([name, src]) => ({
      name,
      batch: AUDIO_BATCH,
      bytes: src.length,
      fn: () => {
        for (let i = 0; i < AUDIO_BATCH; i++) {
          const d = Buffer.allocUnsafe(src.length);
          src.copy(d);
          sink += d[7]!;
        }
      },
    }));
    const tasks: CodecTask[] = [
      { name: 'audio.encode', floor: 'copy.packet', calibration: 'memcpy', budget: false, batch: AUDIO_BATCH, fn: () => { for (let i = 0; i < AUDIO_BATCH; i++) sink += encodePacket(audio).length; } },
      { name: 'audio.decode', floor: 'copy.packet', calibration: 'memcpy', budget: false, batch: AUDIO_BATCH, fn: () => { for (let i = 0; i < AUDIO_BATCH; i++) sink += decodePacket(audioBytes).sequence; } },
      { name: 'text.encode', floor: 'copy.text', calibration: 'memcpy', budget: false, batch: TEXT_BATCH, fn: () => { for (let i = 0; i < TEXT_BATCH; i++) sink += encodePacket(text).length; } },
      { name: 'text.decode', floor: 'copy.text', calibration: 'memcpy', budget: false, batch: TEXT_BATCH, fn: () => { for (let i = 0; i < TEXT_BATCH; i++) sink += decodePacket(textBytes).sequence; } },
      { name: 'opus.encode', floor: 'copy.pcm', batch: OPUS_BATCH, calibration: 'matmul', budget: true, fn: () => {
        for (let i = 0; i < OPUS_BATCH; i++) sink += opusEncoder.push(speech(encoded++)).length;
      } },
      { name: 'opus.decode', floor: 'copy.pcm', batch: OPUS_BATCH, calibration: 'matmul', budget: true, beforeEach: restartDecoderIfDone, fn: () => {
        for (let i = 0; i < OPUS_BATCH; i++) {
          for (const page of client.frames[decoded++]!) opusDecoder.push(page);
          sink += opusDecoder.read().length;
        }
      } },
    ];
    const timeMs = ctx.quick ? 60 : 150;
    return {
      describe: `${tasks.length} tasks and ${floorTasks.length} copy floors, ${timeMs} ms of tinybench samples each per round`,
      figures: tasks.map((t) => {
        const bytes = floorSources[t.floor]!.length;
        return { name: t.name, calibration: t.calibration, budget: t.budget, floor: { kind: 'memcpy' as const, bytes, sample: t.floor, describe: `new buffer + copy of ${bytes} B (${t.floor})` } };
      }),
      notes: [],
      async round(index, tick) {
        const bench = new Bench({ time: timeMs, warmup: index === 0, warmupTime: 200, retainSamples: true });
        // tinybench runs the tasks back to back: calibrate between them (beforeAll hooks).
        for (const t of tasks) bench.add(t.name, t.fn, { beforeAll: () => { for (let i = 0; i < 5; i++) tick(); }, ...(t.beforeEach ? { beforeEach: t.beforeEach } : {}) });
        for (const t of floorTasks) bench.add(t.name, t.fn, { beforeAll: () => { for (let i = 0; i < 5; i++) tick(); } });
        await bench.run();
        const out: Record<string, number[]> = {};
        for (const t of [...tasks, ...floorTasks]) {
          const r = bench.getTask(t.name)?.result;
          if (!r || !('latency' in r) || !r.latency.samples) throw new Error(`codec task ${t.name} did not complete: ${r && 'error' in r ? String(r.error) : r?.state}`);
          out[t.name] = Array.from(r.latency.samples, (ms) => ms / t.batch);
        }
        if (sink === 0.5) ctx.log(''); // keep the work observable
        return out;
      },
      async close() {
        opusDecoder.close();
      },
    };
  },
};
