// fast-check arbitraries and byte helpers shared by the session-format suites.
import fc from 'fast-check';
import { encodePacketRecord, encodePacketsHeader, encodeStepLine, encodeStepsHeader } from '../../../harness/format.ts';
import type { PacketRecord, StepEvent, StepRecord } from '../../../harness/format.ts';
import { SPAN_NAMES } from '../../../src/telemetry/spans.ts';

/** JSON cannot spell -0; the format stores what JSON stores. */
const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => x + 0);

/**
 * Message bytes: small arrays fast-check builds byte by byte (and shrinks well), and larger
 * ones expanded from a seed, since generating hundreds of bytes one by one dominates run time.
 * Runs of the record sync byte 0xA5 make resynchronisation work for its living.
 */
export const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  {
    weight: 1,
    arbitrary: fc.record({ n: fc.integer({ min: 25, max: 700 }), seed: fc.integer(), fill: fc.constantFrom('random', 'sync', 'zero') }).map(({ n, seed, fill }) => {
      const out = new Uint8Array(n);
      if (fill === 'sync') return out.fill(0xa5);
      if (fill === 'zero') return out;
      let x = seed | 1;
      for (let i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        out[i] = x & 0xff;
      }
      return out;
    }),
  },
);

export const packetArb: fc.Arbitrary<PacketRecord> = fc.record({
  direction: fc.constantFrom(0 as const, 1 as const),
  timeMs: fc.oneof(finite(0, 1e7), fc.double({ min: 0, noNaN: true, noDefaultInfinity: true })),
  bytes: bytesArb,
});

export const packetsArb = fc.array(packetArb, { maxLength: 8 });

const eventArb: fc.Arbitrary<StepEvent> = fc.oneof(
  fc.record({ kind: fc.constant('late-frame' as const), seq: fc.nat(), lateMs: finite(-1e3, 1e6) }),
  fc.record({ kind: fc.constant('missing-frame' as const), replacement: fc.constant('silence' as const) }),
  fc.record({ kind: fc.constant('dropped-frame' as const), seq: fc.nat() }),
  fc.record({ kind: fc.constant('skipped-decode' as const), reason: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('dropped-partial' as const), token: fc.integer() }),
  fc.record({ kind: fc.constant('reset' as const), reason: fc.string({ unit: 'binary', maxLength: 8 }) }),
  fc.record({ kind: fc.constant('engine-restart' as const), reason: fc.string() }),
  fc.record({ kind: fc.constant('protocol-error' as const), code: fc.string({ maxLength: 8 }), message: fc.string({ unit: 'grapheme', maxLength: 8 }) }),
  fc.record({ kind: fc.constant('error' as const), message: fc.string() }),
);

const spansArb = fc.subarray([...SPAN_NAMES]).chain((names) =>
  fc.tuple(...names.map(() => finite(0, 1e4))).map((ms) => Object.fromEntries(names.map((n, i) => [n, ms[i]]))),
);

export const stepArb = (step: fc.Arbitrary<number> = fc.nat()): fc.Arbitrary<StepRecord> => fc.record({
  step,
  timeMs: finite(0, 1e9),
  inputCodes: fc.array(fc.integer({ min: 0, max: 2047 }), { maxLength: 8 }),
  text: fc.option(fc.integer({ min: -2, max: 48000 }), { nil: null }),
  textPiece: fc.option(fc.string({ unit: 'binary', maxLength: 8 }), { nil: null }),
  audioCodes: fc.option(fc.array(fc.integer({ min: -2, max: 2047 }), { maxLength: 8 }), { nil: null }),
  pcmHash: fc.option(fc.tuple(fc.integer(), fc.integer(), fc.integer(), fc.integer()).map((w) => w.map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('')), { nil: null }),
  events: fc.array(eventArb, { maxLength: 2 }),
  spans: spansArb,
});

export const stepsArb = fc.array(stepArb(), { maxLength: 6 });

/** A packets.bin image and the offset of each record (plus the end offset). */
export function packetsFile(records: readonly PacketRecord[]): { bytes: Uint8Array; offsets: number[] } {
  const parts = [encodePacketsHeader(), ...records.map((r) => encodePacketRecord(r.direction, r.timeMs, r.bytes))];
  return image(parts);
}

/** A steps.jsonl image and the offset of each line (header first, plus the end offset). */
export function stepsFile(steps: readonly StepRecord[]): { bytes: Uint8Array; offsets: number[] } {
  return image([encodeStepsHeader(), ...steps.map(encodeStepLine)]);
}

function image(parts: Uint8Array[]): { bytes: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  let n = 0;
  for (const p of parts) {
    offsets.push(n);
    n += p.length;
  }
  offsets.push(n);
  const bytes = new Uint8Array(n);
  parts.forEach((p, i) => bytes.set(p, offsets[i]!));
  return { bytes, offsets };
}

/** Cuts bytes into chunks at the given (unsorted, possibly out-of-range) points. */
export function chunk(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(bytes.slice(at, p));
    at = Math.max(at, p);
  }
  return out;
}

export const cutsArb = fc.array(fc.nat(), { maxLength: 6 });
