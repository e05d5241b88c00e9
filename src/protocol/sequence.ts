// Sequence numbers are u32 and wrap. Ordering uses serial-number arithmetic (RFC 1982):
// a precedes b when b is less than 2^31 steps ahead of a, so ordering survives the wrap
// as long as packets in flight span fewer than 2^31 numbers.

const HALF = 0x80000000;

/** The sequence number after `s`. */
export function seqNext(s: number): number {
  return (s + 1) >>> 0;
}

/** Adds a (possibly negative) step, wrapping. */
export function seqAdd(s: number, step: number): number {
  return (s + step) >>> 0;
}

/** Signed distance from a to b in (-2^31, 2^31]: positive when b is after a. */
export function seqDiff(a: number, b: number): number {
  const d = (b - a) >>> 0;
  return d > HALF ? d - 0x100000000 : d;
}

/** True when a comes strictly before b. Undefined for numbers exactly 2^31 apart (false both ways). */
export function seqLessThan(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < HALF;
}

/** A comparator for sorting a window of sequence numbers (span < 2^31) in sending order. */
export function compareSeq(a: number, b: number): number {
  return a === b ? 0 : seqLessThan(a, b) ? -1 : 1;
}
