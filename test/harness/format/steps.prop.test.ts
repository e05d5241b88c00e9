// steps.jsonl properties (fast-check, PROP_RUNS each), mirroring packets.bin: round trip under
// any chunking, any truncation recovers exactly the whole-line prefix, any single corrupted
// byte (newlines included) is found at its line and salvage recovers every other step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StepLogDecoder, crc32, crc32Hex, encodeStepLine, encodeStepsHeader, isSessionError } from '../../../harness/format.ts';
import type { LogReadOptions, ReadStep, SessionError, SessionRecovery, StepRecord } from '../../../harness/format.ts';
import { canonicalStepJson, directStepJson, directStepOk } from '../../../harness/format/steps.ts';
import { propParams } from '../../props.ts';
import { chunk, cutsArb, stepArb, stepsArb, stepsFile } from './arbitraries.ts';

interface Outcome { steps: ReadStep[]; error: SessionError | null; recoveries: SessionRecovery[] }

function decode(bytes: Uint8Array, cuts: readonly number[] = [], options: LogReadOptions = {}): Outcome {
  const d = new StepLogDecoder(options);
  const steps: ReadStep[] = [];
  for (const c of chunk(bytes, cuts)) {
    steps.push(...d.push(c));
    if (d.error !== null) break;
  }
  steps.push(...d.end());
  return { steps, error: d.error, recoveries: d.recoveries };
}

const strip = (rs: readonly ReadStep[]): StepRecord[] => rs.map(({ offset: _, ...r }) => r);
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('steps.jsonl round trip', () => {
  it('decodes any sequence of steps back, at their offsets, however the file is chunked', () => {
    fc.assert(fc.property(stepsArb, cutsArb, (steps, cuts) => {
      const { bytes, offsets } = stepsFile(steps);
      const out = decode(bytes, cuts);
      expect(out.error).toBeNull();
      expect(out.recoveries).toEqual([]);
      expect(strip(out.steps)).toEqual(steps);
      expect(out.steps.map((s) => s.offset)).toEqual(offsets.slice(1, -1));
    }), propParams());
  });

  it('each line is plain JSON whose crc is CRC-32 of the line without its crc member', () => {
    fc.assert(fc.property(stepArb(), (step) => {
      const text = new TextDecoder().decode(encodeStepLine(step));
      expect(text.endsWith('\n')).toBe(true);
      const obj = JSON.parse(text) as Record<string, unknown>;
      const { crc, ...rest } = obj;
      expect(crc).toBe(crc32Hex(crc32(utf8(JSON.stringify(rest)))));
    }), propParams({ numRuns: 200 }));
  });
});

describe('steps.jsonl encoding', () => {
  // The line is written directly (no canonical copy) when every check passes: it must be the
  // canonical text byte for byte, and anything unusual must take the canonical way.
  const junkArb = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(Number.NaN), fc.constant(-1), fc.constant(1.5), fc.constant('x'), fc.constant([1, 2]), fc.constant({ extra: 1 }));
  const mutatedArb = fc.tuple(stepArb(), fc.constantFrom('step', 'timeMs', 'inputCodes', 'text', 'textPiece', 'audioCodes', 'pcmHash', 'events', 'spans', 'spans.extra', 'event.extra', 'order'), junkArb)
    .map(([step, key, junk]) => {
      const r: Record<string, unknown> = { ...step };
      if (key === 'spans.extra') r.spans = { ...step.spans, 'lm.other': junk };
      else if (key === 'event.extra') r.events = [{ kind: 'error', message: 'm', extra: junk }];
      else if (key === 'order') return Object.fromEntries(Object.entries(step).reverse().map(([k, v]) => [k, k === 'spans' ? Object.fromEntries(Object.entries(v as object).reverse()) : v]));
      else r[key] = junk;
      return r;
    });

  it('the direct writer gives the canonical text for any valid step, and leaves everything else to it', () => {
    fc.assert(fc.property(fc.oneof(stepArb(), mutatedArb), (step) => {
      const direct = directStepJson(step as unknown as StepRecord);
      let canonical: string | null = null;
      try {
        canonical = canonicalStepJson(step as unknown as StepRecord);
      } catch (err) {
        expect(isSessionError(err, 'SESSION_ERR_INVALID')).toBe(true);
      }
      // Never accepts what the canonical way refuses; equal text whenever it writes.
      if (canonical === null) expect(direct).toBeNull();
      if (direct !== null) expect(direct).toBe(canonical);
      // What the writer thread is handed as fields (its line written there) is a step it will write.
      if (directStepOk(step as unknown as StepRecord)) expect(direct).not.toBeNull();
    }), propParams());
  });

  it('takes the direct way for the steps a server records (the canonical way is the fallback, not the rule)', () => {
    fc.assert(fc.property(stepArb(), (step) => {
      expect(directStepJson(step)).toBe(canonicalStepJson(step));
    }), propParams());
  });
});

describe('steps.jsonl truncation', () => {
  it('any cut recovers exactly the lines that end before it and reports the dropped bytes', () => {
    fc.assert(fc.property(stepsArb, fc.nat(), cutsArb, (steps, at, cuts) => {
      const { bytes, offsets } = stepsFile(steps);
      const cut = at % (bytes.length + 1);
      const out = decode(bytes.subarray(0, cut), cuts);
      expect(out.error).toBeNull();
      expect(strip(out.steps)).toEqual(steps.slice(0, offsets.slice(2).filter((end) => end <= cut).length));
      if (cut > 0 && offsets.includes(cut)) {
        expect(out.recoveries).toEqual([]);
      } else {
        const from = Math.max(...offsets.filter((o) => o <= cut && o < bytes.length || o === 0));
        expect(out.recoveries).toEqual([expect.objectContaining({ code: 'SESSION_ERR_TRUNCATED', file: 'steps.jsonl', offset: from, length: cut - from })]);
      }
    }), propParams());
  });
});

describe('steps.jsonl corruption', () => {
  // Position as a fraction of the file (no chain: generation stays cheap); flips to and from
  // '\n' are the interesting cases for a line format, so they get weight.
  const corruptArb = fc.tuple(stepsArb.filter((s) => s.length > 0), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.oneof(fc.constant(0x0a), fc.integer({ min: 0, max: 255 })), cutsArb);
  const damage = (bytes: Uint8Array, frac: number, value: number): { bad: Uint8Array; at: number } => {
    const at = Math.floor(frac * bytes.length);
    const bad = bytes.slice();
    bad[at] = bad[at] === value ? value ^ 0x20 : value;
    return { bad, at };
  };

  it('a single corrupted byte stops the read at its line, with that line\'s offset', () => {
    fc.assert(fc.property(corruptArb, ([steps, frac, value, cuts]) => {
      const { bytes, offsets } = stepsFile(steps);
      const { bad, at } = damage(bytes, frac, value);
      const line = offsets.findLastIndex((o) => o <= at); // 0 = header line
      const out = decode(bad, cuts);
      expect(out.error?.code).toBe('SESSION_ERR_CORRUPT');
      expect(out.error?.offset).toBe(offsets[line]);
      expect(strip(out.steps)).toEqual(steps.slice(0, Math.max(0, line - 1)));
    }), propParams());
  });

  it('with salvage, every other step is recovered and the skipped span is exactly the bad line', () => {
    fc.assert(fc.property(corruptArb, ([steps, frac, value, cuts]) => {
      const { bytes, offsets } = stepsFile(steps);
      const { bad, at } = damage(bytes, frac, value);
      const line = offsets.findLastIndex((o) => o <= at);
      const out = decode(bad, cuts, { salvage: true });
      expect(out.error).toBeNull();
      expect(strip(out.steps)).toEqual(steps.filter((_, i) => i !== line - 1));
      expect(out.recoveries).toEqual([expect.objectContaining({ code: 'SESSION_ERR_CORRUPT', offset: offsets[line], length: offsets[line + 1]! - offsets[line]! })]);
    }), propParams());
  });
});

describe('steps.jsonl header and schema', () => {
  it('another version is SESSION_ERR_VERSION; another format is SESSION_ERR_NOT_A_SESSION', () => {
    const line = (o: object) => {
      const body = utf8(JSON.stringify(o));
      return utf8(`${JSON.stringify(o).slice(0, -1)},"crc":"${crc32Hex(crc32(body))}"}\n`);
    };
    const v2 = decode(line({ format: 'solacelive.steps', version: 2 })).error;
    expect(isSessionError(v2, 'SESSION_ERR_VERSION')).toBe(true);
    expect(v2).toMatchObject({ found: 2, supported: [1] });
    expect(decode(line({ format: 'something.else', version: 1 })).error?.code).toBe('SESSION_ERR_NOT_A_SESSION');
    expect(decode(encodeStepsHeader()).error).toBeNull();
  });

  it('a line that passes its CRC but breaks the schema is corrupt (a writer bug), and salvage skips it', () => {
    const body = JSON.stringify({ step: 'seven' });
    const bad = utf8(`${body.slice(0, -1)},"crc":"${crc32Hex(crc32(utf8(body)))}"}\n`);
    const ok = encodeStepLine({ step: 8, timeMs: 1, inputCodes: [], text: null, textPiece: null, audioCodes: null, pcmHash: null, events: [], spans: {} });
    const img = new Uint8Array([...encodeStepsHeader(), ...bad, ...ok]);
    expect(decode(img).error?.message).toMatch(/not a valid step: step is "seven"/);
    const salvaged = decode(img, [], { salvage: true });
    expect(salvaged.steps.map((s) => s.step)).toEqual([8]);
  });

  it('the encoder refuses what JSON would silently change (NaN, unknown spans and events)', () => {
    const base: StepRecord = { step: 0, timeMs: 0, inputCodes: [1], text: null, textPiece: null, audioCodes: null, pcmHash: null, events: [], spans: {} };
    expect(() => encodeStepLine({ ...base, timeMs: NaN })).toThrow(/timeMs/);
    expect(() => encodeStepLine({ ...base, inputCodes: [1.5] })).toThrow(/inputCodes\[0\]/);
    expect(() => encodeStepLine({ ...base, spans: { 'mimi.encodr': 1 } as never })).toThrow(/mimi.encodr is not a span name/);
    expect(() => encodeStepLine({ ...base, events: [{ kind: 'late', seq: 1 } as never] })).toThrow(/not a step event kind/);
    expect(() => encodeStepLine({ ...base, pcmHash: 'XYZ' })).toThrow(/pcmHash/);
    for (const bad of [{ ...base, timeMs: NaN }]) {
      try {
        encodeStepLine(bad);
      } catch (err) {
        expect(isSessionError(err, 'SESSION_ERR_INVALID')).toBe(true);
      }
    }
  });
});
