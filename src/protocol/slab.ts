// Buffer allocation for the codec. Fresh zeroed memory costs more than encoding an 80 ms
// audio packet: measured here (Node 24, x64), a new 7.7 KB Uint8Array or ArrayBuffer took
// 4.5–6 µs, Buffer.allocUnsafeSlow ~4 µs, Buffer.allocUnsafe ~1 µs, and the copy itself
// 0.2 µs. So:
//   - under Node, memory comes from Buffer.allocUnsafe (found on globalThis, not
//     imported: this module stays browser-safe) and is handed out as a plain Uint8Array
//     view, so callers never meet Buffer's aliasing slice(); browsers get typed arrays;
//   - small requests (text, acks, heartbeats) are carved out of a shared slab, as
//     Node's own Buffer pool does.
// Consequence for callers: a small packet's `.buffer` is the whole slab. Honour
// byteOffset/byteLength (every TypedArray API does); a live view keeps its slab
// (SLAB_BYTES) alive.

type Alloc = (n: number) => Uint8Array;
const nodeBuffer = (globalThis as { Buffer?: { allocUnsafe: Alloc } }).Buffer;
const uninitialized: Alloc = nodeBuffer
  ? (n) => {
    const b = nodeBuffer.allocUnsafe(n);
    return new Uint8Array(b.buffer, b.byteOffset, n);
  }
  : (n) => new Uint8Array(n);

export const SLAB_BYTES = 16 * 1024;
/** Requests of this size or more get their own (uninitialised) buffer. */
const OWN_BUFFER_FROM = 1024;

let slab = uninitialized(SLAB_BYTES);
let used = 0;

export interface Allocation {
  /** Write at [offset, offset + length) of this array. */
  readonly bytes: Uint8Array;
  readonly offset: number;
}

/**
 * Reserves `length` bytes, 8-byte aligned relative to the underlying ArrayBuffer, not
 * zeroed: the caller must write every byte it hands out.
 */
export function allocate(length: number): Allocation {
  if (length >= OWN_BUFFER_FROM) return { bytes: uninitialized(length), offset: 0 };
  if (used + length > SLAB_BYTES) {
    slab = uninitialized(SLAB_BYTES);
    used = 0;
  }
  const offset = used;
  used = (used + length + 7) & ~7;
  return { bytes: slab, offset };
}
