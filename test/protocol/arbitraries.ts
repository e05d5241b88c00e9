// Arbitraries for every packet type with any valid field values.
import fc from 'fast-check';
import { AUDIO_SAMPLES, type Packet, type Priority } from '../../src/protocol/index.ts';

const header = fc.record({
  priority: fc.constantFrom<Priority>(0, 1, 2, 3),
  sequence: fc.integer({ min: 0, max: 0xffffffff }),
  timestamp: fc.double({ noNaN: true, noDefaultInfinity: true }),
  requiresAck: fc.boolean(),
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const samplesArb = fc.float32Array({ minLength: AUDIO_SAMPLES, maxLength: AUDIO_SAMPLES, noNaN: true, noDefaultInfinity: true });

// Any well-formed string: full Unicode code points, multi-byte UTF-8, a leading BOM now and then.
export const textArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }).filter((s) => s.isWellFormed()),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ maxLength: 40 }).map((s) => `\uFEFF${s}`),
);

export const heartbeatArb = header.map((h): Packet => ({ type: 'HEARTBEAT', ...h }));
export const ackArb = fc.tuple(header, u32).map(([h, ackSequence]): Packet => ({ type: 'ACK', ...h, ackSequence }));
export const audioArb = fc.tuple(header, samplesArb).map(([h, samples]): Packet => ({ type: 'AUDIO_CHUNK', ...h, samples }));
export const textPacketArb = fc.tuple(header, fc.constantFrom('TEXT_PARTIAL', 'TEXT_FINAL') as fc.Arbitrary<'TEXT_PARTIAL' | 'TEXT_FINAL'>, textArb)
  .map(([h, type, text]): Packet => ({ type, ...h, text }));
export const metadataArb = fc.tuple(header, fc.jsonValue({ maxDepth: 4 })).map(([h, data]): Packet => ({ type: 'METADATA', ...h, data: data as never }));

export const packetArb: fc.Arbitrary<Packet> = fc.oneof(heartbeatArb, ackArb, audioArb, textPacketArb, metadataArb);

/** Packets without audio: cheap, for properties that need many bytes-level operations. */
export const smallPacketArb: fc.Arbitrary<Packet> = fc.oneof(heartbeatArb, ackArb, textPacketArb, metadataArb);

export const byTypeArbs = {
  HEARTBEAT: heartbeatArb,
  ACK: ackArb,
  AUDIO_CHUNK: audioArb,
  TEXT: textPacketArb,
  METADATA: metadataArb,
} as const;
