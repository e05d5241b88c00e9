// Reading session files straight out of a .zip (the viewer accepts a zipped session dropped
// on the page), without unpacking it: the central directory is read from the end of the
// Blob, and each entry is streamed through DecompressionStream('deflate-raw'), which
// browsers and Node both provide. Stored and deflated entries, zip64 included.
import { chunksOf, readU16LE, readU32LE } from './bytes.ts';
import { crc32 } from './crc32.ts';
import { SessionError } from './errors.ts';

export interface ZipEntry {
  /** Path inside the archive, '/'-separated. */
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc: number;
  readonly compressedSize: number;
  /** Uncompressed size. */
  readonly size: number;
  readonly localOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const STORED = 0;
const DEFLATE = 8;
const MAX_COMMENT = 0xffff;

function u64(b: Uint8Array, at: number): number {
  return readU32LE(b, at) + readU32LE(b, at + 4) * 0x100000000;
}

async function bytesOf(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

function notZip(label: string, why: string): SessionError {
  return new SessionError('SESSION_ERR_NOT_A_SESSION', `${label} is not a readable zip archive: ${why}`, { file: label });
}

/** The archive's entries (directories left out), from its central directory. */
export async function readZipDirectory(zip: Blob, label: string): Promise<ZipEntry[]> {
  const tailStart = Math.max(0, zip.size - (22 + MAX_COMMENT + 20));
  const tail = await bytesOf(zip, tailStart, zip.size);
  let e = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (readU32LE(tail, i) === EOCD) {
      e = i;
      break;
    }
  }
  if (e < 0) throw notZip(label, 'no end-of-central-directory record');
  if (readU16LE(tail, e + 4) !== 0 || readU16LE(tail, e + 6) !== 0) {
    throw new SessionError('SESSION_ERR_UNSUPPORTED', `${label} is a split (multi-disk) zip archive; join it first`, { file: label });
  }
  let count = readU16LE(tail, e + 10);
  let cdSize = readU32LE(tail, e + 12);
  let cdOffset = readU32LE(tail, e + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (e < 20 || readU32LE(tail, e - 20) !== EOCD64_LOCATOR) throw notZip(label, 'zip64 sizes without a zip64 locator');
    const at = u64(tail, e - 20 + 8);
    const rec = await bytesOf(zip, at, at + 56);
    if (rec.length < 56 || readU32LE(rec, 0) !== EOCD64) throw notZip(label, 'zip64 end record not found');
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
  }
  if (cdOffset + cdSize > zip.size) throw notZip(label, 'central directory runs past the end of the file');
  const cd = await bytesOf(zip, cdOffset, cdOffset + cdSize);
  const names = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || readU32LE(cd, p) !== CENTRAL) throw notZip(label, `central directory entry ${i} is damaged`);
    const nameLen = readU16LE(cd, p + 28);
    const extraLen = readU16LE(cd, p + 30);
    const commentLen = readU16LE(cd, p + 32);
    const name = names.decode(cd.subarray(p + 46, p + 46 + nameLen)).replace(/\\/g, '/');
    let size = readU32LE(cd, p + 24);
    let compressedSize = readU32LE(cd, p + 20);
    let localOffset = readU32LE(cd, p + 42);
    // Zip64 extra field: 64-bit values for exactly those fields that hold 0xFFFFFFFF.
    for (let x = p + 46 + nameLen, end = x + extraLen; x + 4 <= end;) {
      const id = readU16LE(cd, x);
      const len = readU16LE(cd, x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) { size = u64(cd, q); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = u64(cd, q); q += 8; }
        if (localOffset === 0xffffffff) localOffset = u64(cd, q);
      }
      x += 4 + len;
    }
    if (!name.endsWith('/')) {
      entries.push({ name, method: readU16LE(cd, p + 10), flags: readU16LE(cd, p + 8), crc: readU32LE(cd, p + 16), compressedSize, size, localOffset });
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Reads an archive's entries; data offsets are resolved (one local header read) on first use. */
export class ZipArchive {
  readonly blob: Blob;
  readonly label: string;
  readonly entries: readonly ZipEntry[];
  private readonly dataStarts = new Map<ZipEntry, Promise<number>>();

  constructor(blob: Blob, label: string, entries: readonly ZipEntry[]) {
    this.blob = blob;
    this.label = label;
    this.entries = entries;
  }

  static async open(blob: Blob, label: string): Promise<ZipArchive> {
    return new ZipArchive(blob, label, await readZipDirectory(blob, label));
  }

  /** The entry's uncompressed bytes from `start` on. A full read checks the entry's CRC-32. */
  async *stream(entry: ZipEntry, start = 0): AsyncGenerator<Uint8Array> {
    const where = `${this.label}:${entry.name}`;
    if (entry.flags & 1) throw new SessionError('SESSION_ERR_UNSUPPORTED', `${where} is encrypted`, { file: entry.name });
    if (entry.method !== STORED && entry.method !== DEFLATE) {
      throw new SessionError('SESSION_ERR_UNSUPPORTED', `${where} uses zip compression method ${entry.method}; only stored (0) and deflate (8) are supported`, { file: entry.name });
    }
    const data = await this.dataStart(entry);
    const raw = this.blob.slice(data, data + entry.compressedSize);
    let source: ReadableStream<Uint8Array>;
    let at = 0;
    if (entry.method === STORED) {
      // Stored data can start where asked; only a read from 0 can check the CRC.
      source = raw.slice(start).stream();
      at = Math.min(start, entry.size);
    } else {
      source = raw.stream().pipeThrough(new DecompressionStream('deflate-raw') as unknown as TransformStream<Uint8Array, Uint8Array>);
    }
    let crc = 0;
    try {
      for await (const chunk of chunksOf(source)) {
        if (start === 0) crc = crc32(chunk, crc);
        const from = Math.max(0, start - at);
        at += chunk.length;
        if (from < chunk.length) yield from === 0 ? chunk : chunk.subarray(from);
      }
    } catch (err) {
      if (err instanceof SessionError) throw err;
      throw new SessionError('SESSION_ERR_CORRUPT', `${where}: the compressed data is damaged (${(err as Error).message})`, { file: entry.name, cause: err });
    }
    if (at !== entry.size || (start === 0 && crc !== entry.crc)) {
      throw new SessionError('SESSION_ERR_CORRUPT', `${where}: read ${at} bytes with CRC ${crc.toString(16)}; the archive says ${entry.size} bytes, CRC ${entry.crc.toString(16)}`, { file: entry.name });
    }
  }

  /** Uncompressed bytes [start, end). */
  async read(entry: ZipEntry, start: number, end: number): Promise<Uint8Array> {
    const s = Math.max(0, Math.min(start, entry.size));
    const e = Math.max(s, Math.min(end, entry.size));
    const out = new Uint8Array(e - s);
    if (out.length === 0) return out;
    if (entry.method === STORED && !(entry.flags & 1)) {
      const data = await this.dataStart(entry);
      return bytesOf(this.blob, data + s, data + e);
    }
    let fill = 0;
    for await (const chunk of this.stream(entry, s)) {
      const n = Math.min(chunk.length, out.length - fill);
      out.set(chunk.subarray(0, n), fill);
      fill += n;
      if (fill === out.length) break;
    }
    return out;
  }

  private dataStart(entry: ZipEntry): Promise<number> {
    let p = this.dataStarts.get(entry);
    if (p === undefined) {
      p = bytesOf(this.blob, entry.localOffset, entry.localOffset + 30).then((h) => {
        if (h.length < 30 || readU32LE(h, 0) !== LOCAL) throw notZip(this.label, `the local header of ${entry.name} is missing`);
        return entry.localOffset + 30 + readU16LE(h, 26) + readU16LE(h, 28);
      });
      this.dataStarts.set(entry, p);
    }
    return p;
  }
}
