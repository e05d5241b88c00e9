// Streaming helpers shared by the log decoders: a window over the unconsumed bytes of a
// chunked file, and one way to iterate the chunk sources a browser or Node hands us.

/**
 * The bytes received but not yet consumed, with their absolute file offset. Holds at most one
 * partial record plus the latest chunk, so a reader's memory does not grow with the file.
 */
export class ByteWindow {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  // A chunk is referenced without copying while it is all we hold; it is never written to.
  private owned = false;
  /** Absolute offset (in the file) of the first unconsumed byte. */
  base = 0;

  get length(): number {
    return this.end - this.start;
  }

  /** The unconsumed bytes. Valid until the next push. */
  view(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.length === 0) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.owned = false;
      return;
    }
    const need = this.length + chunk.length;
    if (this.owned && this.end + chunk.length <= this.buf.length) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    if (this.owned && need <= this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(Math.max(need, 2 * this.length, 64 * 1024));
      grown.set(this.buf.subarray(this.start, this.end));
      this.buf = grown;
      this.owned = true;
    }
    this.end = this.length;
    this.start = 0;
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  consume(n: number): void {
    this.start += n;
    this.base += n;
    if (this.start >= this.end) {
      this.start = this.end = 0;
      if (!this.owned) this.buf = new Uint8Array(0);
    }
  }

  /**
   * Copies what is left of a borrowed chunk, so the caller may reuse its buffer (Node streams
   * and BYOB readers do). Called after each chunk has been parsed.
   */
  settle(): void {
    if (this.owned || this.length === 0) return;
    this.buf = this.buf.slice(this.start, this.end);
    this.end = this.buf.length;
    this.start = 0;
    this.owned = true;
  }
}

/** What the streaming readers accept: Node streams, ReadableStreams, arrays of chunks. */
export type ChunkSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>;

/** Iterates any chunk source; ReadableStreams through a reader, since Safari cannot for-await them. */
export async function* chunksOf(source: ChunkSource): AsyncGenerator<Uint8Array> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    let done = false;
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) {
          done = true;
          return;
        }
        yield r.value;
      }
    } finally {
      // A consumer that stops early (a range read) must stop the producer too, or a
      // decompressing pipe behind it would keep running.
      if (!done) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}


export function readU32LE(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

export function writeU32LE(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export function readU16LE(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readF64LE(b: Uint8Array, at: number): number {
  if (LITTLE_ENDIAN_HOST) for (let i = 0; i < 8; i++) F64_BYTES[i] = b[at + i]!;
  else for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = b[at + i]!;
  return F64[0]!;
}

export function writeF64LE(b: Uint8Array, at: number, v: number): void {
  F64[0] = v;
  if (LITTLE_ENDIAN_HOST) for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[i]!;
  else for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[7 - i]!;
}
