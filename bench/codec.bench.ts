// Packet codec benchmark: AUDIO_CHUNK encode/decode against the memory-copy floor
// measured in the same run, small text packets in packets/s, and the three ways to get
// float32 samples out of the odd-offset (byte 17) payload.
//   node bench/codec.bench.ts [--time MS] [--json OUT] [--quick]
import { parseArgs } from 'node:util';
import {
  AUDIO_PAYLOAD_BYTES, AUDIO_SAMPLES, decodePacket, encodePacket, HEADER_BYTES, type Packet,
} from '../src/protocol/index.ts';
import { formatTable, makeResult, runTasks, writeResult, type TaskFigures, type TaskSpec } from './lib/suite.ts';

const { values } = parseArgs({ options: { time: { type: 'string' }, json: { type: 'string' }, quick: { type: 'boolean' } } });
const timeMs = Number(values.time ?? (values.quick ? 300 : 2000));
const warmupMs = Math.min(500, timeMs / 2);

const AUDIO_BATCH = 64;
const TEXT_BATCH = 2048;
const PACKET_BYTES = HEADER_BYTES + AUDIO_PAYLOAD_BYTES;

const samples = Float32Array.from({ length: AUDIO_SAMPLES }, (_, i) => Math.sin(i * 0.05) * 0.3);
const audio: Packet = { type: 'AUDIO_CHUNK', priority: 0, sequence: 12345, timestamp: 1000.5, requiresAck: false, samples };
const audioBytes = encodePacket(audio);
const text: Packet = { type: 'TEXT_PARTIAL', priority: 2, sequence: 777, timestamp: 1000.5, requiresAck: false, text: ' hello' };
const textBytes = encodePacket(text);

// Floors. Encode and decode each hand back a new buffer, so their floor is allocating
// and filling one of the same size: the faster of TypedArray.set into a new Uint8Array
// and Buffer.copy into Buffer.allocUnsafe. The pure copy into a buffer allocated once
// (memory bandwidth alone) is reported beside it.
const src = new Uint8Array(audioBytes);
const srcBuf = Buffer.from(audioBytes);
const preallocated = new Uint8Array(PACKET_BYTES);
let sink = 0;

const payload = audioBytes.subarray(HEADER_BYTES);
const tasks: TaskSpec[] = [
  { name: 'copy floor: TypedArray.set (new 7697 B)', batch: AUDIO_BATCH, bytesPerOp: PACKET_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) { const d = new Uint8Array(PACKET_BYTES); d.set(src); sink += d[100]!; }
  } },
  { name: 'copy floor: Buffer.copy (new 7697 B)', batch: AUDIO_BATCH, bytesPerOp: PACKET_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) { const d = Buffer.allocUnsafe(PACKET_BYTES); srcBuf.copy(d); sink += d[100]!; }
  } },
  { name: 'pure copy: TypedArray.set (preallocated)', batch: AUDIO_BATCH, bytesPerOp: PACKET_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) { preallocated.set(src); sink += preallocated[100]!; }
  } },
  { name: 'AUDIO_CHUNK encode', batch: AUDIO_BATCH, bytesPerOp: PACKET_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) sink += encodePacket(audio).length;
  } },
  { name: 'AUDIO_CHUNK decode (validated)', batch: AUDIO_BATCH, bytesPerOp: PACKET_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) { const p = decodePacket(audioBytes); sink += p.sequence; }
  } },
  // Ways to read float32 samples from the misaligned payload (no validation).
  { name: 'samples: slice + Float32Array view', batch: AUDIO_BATCH, bytesPerOp: AUDIO_PAYLOAD_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) { const f = new Float32Array(payload.slice().buffer); sink += f[5]!; }
  } },
  { name: 'samples: aligned copy (Uint8Array.set)', batch: AUDIO_BATCH, bytesPerOp: AUDIO_PAYLOAD_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) { const f = new Float32Array(AUDIO_SAMPLES); new Uint8Array(f.buffer).set(payload); sink += f[5]!; }
  } },
  { name: 'samples: DataView.getFloat32 loop', batch: AUDIO_BATCH, bytesPerOp: AUDIO_PAYLOAD_BYTES, fn: () => {
    for (let i = 0; i < AUDIO_BATCH; i++) {
      const f = new Float32Array(AUDIO_SAMPLES);
      const v = new DataView(payload.buffer, payload.byteOffset, AUDIO_PAYLOAD_BYTES);
      for (let j = 0; j < AUDIO_SAMPLES; j++) f[j] = v.getFloat32(j * 4, true);
      sink += f[5]!;
    }
  } },
  { name: 'TEXT_PARTIAL encode (6 chars)', batch: TEXT_BATCH, fn: () => {
    for (let i = 0; i < TEXT_BATCH; i++) sink += encodePacket(text).length;
  } },
  { name: 'TEXT_PARTIAL decode (6 chars)', batch: TEXT_BATCH, fn: () => {
    for (let i = 0; i < TEXT_BATCH; i++) sink += decodePacket(textBytes).sequence;
  } },
];

console.error(`codec benchmark: ${tasks.length} tasks, ${timeMs} ms each (+${warmupMs} ms warm-up)…`);
const figures = await runTasks(tasks, { timeMs, warmupMs });
const by = (prefix: string): TaskFigures => figures.find((f) => f.name.startsWith(prefix))!;
const floor = Math.max(by('copy floor: TypedArray').opsPerSec, by('copy floor: Buffer').opsPerSec);
const ratios = {
  audioEncodeVsCopy: by('AUDIO_CHUNK encode').opsPerSec / floor,
  audioDecodeVsCopy: by('AUDIO_CHUNK decode').opsPerSec / floor,
  audioEncodeVsPureCopy: by('AUDIO_CHUNK encode').opsPerSec / by('pure copy').opsPerSec,
  audioDecodeVsPureCopy: by('AUDIO_CHUNK decode').opsPerSec / by('pure copy').opsPerSec,
  textEncodePerSec: by('TEXT_PARTIAL encode').opsPerSec,
  textDecodePerSec: by('TEXT_PARTIAL decode').opsPerSec,
};
const result = makeResult('codec', figures, ratios, { timeMs, warmupMs });

console.log(formatTable(figures));
console.log('');
console.log(`host: ${result.host.cpuModel}, ${result.host.cores} cores, node ${result.host.node}`);
const verdict = (ok: boolean) => (ok ? 'meets target' : 'BELOW TARGET');
console.log('ratios are of packets/s at the median, measured in this run; copy rate = allocate + copy the same bytes');
console.log(`AUDIO_CHUNK encode           ${ratios.audioEncodeVsCopy.toFixed(2)} × copy rate, ${ratios.audioEncodeVsPureCopy.toFixed(2)} × pure copy  (target ≥ 0.5 × copy rate: ${verdict(ratios.audioEncodeVsCopy >= 0.5)})`);
console.log(`AUDIO_CHUNK validated decode ${ratios.audioDecodeVsCopy.toFixed(2)} × copy rate, ${ratios.audioDecodeVsPureCopy.toFixed(2)} × pure copy  (target ≥ 0.5 × copy rate: ${verdict(ratios.audioDecodeVsCopy >= 0.5)})`);
console.log(`TEXT_PARTIAL encode          ${(ratios.textEncodePerSec / 1e6).toFixed(2)} M packets/s (target ≥ 2: ${verdict(ratios.textEncodePerSec >= 2e6)})`);
console.log(`TEXT_PARTIAL decode          ${(ratios.textDecodePerSec / 1e6).toFixed(2)} M packets/s (target ≥ 2: ${verdict(ratios.textDecodePerSec >= 2e6)})`);
console.log(`results: ${writeResult(result, values.json)}`);
if (sink === 0.123) console.log(''); // keep the work observable
