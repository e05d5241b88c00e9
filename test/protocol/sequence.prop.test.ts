import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSeq, seqAdd, seqDiff, seqLessThan, seqNext } from '../../src/protocol/index.ts';
import { propParams } from '../props.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ahead = fc.integer({ min: 1, max: 0x7fffffff });

describe('sequence numbers across the u32 wrap', () => {
  it('next of 0xffffffff is 0, and 0 is after it', () => {
    expect(seqNext(0xffffffff)).toBe(0);
    expect(seqLessThan(0xffffffff, 0)).toBe(true);
    expect(seqLessThan(0, 0xffffffff)).toBe(false);
    expect(seqDiff(0xfffffffe, 1)).toBe(3);
  });

  it('a number less than 2^31 steps ahead is after, never before', () => {
    fc.assert(fc.property(u32, ahead, (a, d) => {
      const b = seqAdd(a, d);
      expect(seqLessThan(a, b)).toBe(true);
      expect(seqLessThan(b, a)).toBe(false);
      expect(seqDiff(a, b)).toBe(d);
      expect(seqDiff(b, a)).toBe(-d);
    }), propParams());
  });

  it('no number is before itself', () => {
    fc.assert(fc.property(u32, (a) => {
      expect(seqLessThan(a, a)).toBe(false);
      expect(compareSeq(a, a)).toBe(0);
    }), propParams());
  });

  it('a shuffled window of consecutive numbers sorts back into sending order, wherever it sits', () => {
    fc.assert(fc.property(u32, fc.integer({ min: 1, max: 300 }), fc.nat(), (start, n, seed) => {
      const sent = Array.from({ length: n }, (_, i) => seqAdd(start, i));
      const shuffled = sent.map((s, i) => ({ s, k: (i * 2654435761 + seed) % 1000003 })).sort((x, y) => x.k - y.k).map((x) => x.s);
      expect(shuffled.sort(compareSeq)).toEqual(sent);
    }), propParams());
  });
});
