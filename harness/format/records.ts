// packets.bin: the raw WebSocket messages of a session, both directions, as append-only
// records. Layout (all little-endian; README.md in this folder has the table):
//
//   file header, 16 bytes: magic "\x89SLP\r\n\x1a\n", u16 version, u16 header size, u32 CRC-32
//     of bytes 0..12. The magic catches text-mode transfers (CR/LF, 7-bit) the way PNG's does.
//   record: u8 sync 0xA5, u8 direction, u16 flags (0), f64 time ms, u32 length, u32 CRC-32 of
//     the 16 bytes before it, `length` bytes, u32 CRC-32 of everything from the sync byte on.
//
// The header has its own CRC so that a damaged length field is caught before the reader
// trusts it: otherwise a flipped bit in the middle of the file would read as one huge record
// running off the end, indistinguishable from a torn tail.
import { readF64LE, readU16LE, readU32LE, writeF64LE, writeU32LE } from './bytes.ts';
import { crc32 } from './crc32.ts';
import { SessionError } from './errors.ts';
import { CLIENT_TO_SERVER, PACKETS_FILE, SERVER_TO_CLIENT, SUPPORTED_LOG_VERSIONS } from './layout.ts';
import type { PacketDirection } from './layout.ts';
import { LogDecoder } from './log.ts';
import type { LogReadOptions } from './log.ts';

export const PACKETS_MAGIC: readonly number[] = [0x89, 0x53, 0x4c, 0x50, 0x0d, 0x0a, 0x1a, 0x0a];
export const PACKETS_VERSION = 1;
export const PACKETS_HEADER_BYTES = 16;
export const RECORD_SYNC = 0xa5;
export const RECORD_HEADER_BYTES = 20;
/** Header plus trailing CRC: a record takes RECORD_OVERHEAD + length bytes. */
export const RECORD_OVERHEAD = 24;
/** Largest message a record holds; the server's WebSocket maxPayload must not exceed it. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export interface PacketRecord {
  /** 0 client → server, 1 server → client. */
  readonly direction: PacketDirection;
  /** Capture time, ms since the session started (the writer's clock). */
  readonly timeMs: number;
  /** The WebSocket message exactly as sent or received. */
  readonly bytes: Uint8Array;
}

export interface ReadPacket extends PacketRecord {
  /** Byte offset of the record in packets.bin. */
  readonly offset: number;
}

export function encodePacketsHeader(): Uint8Array {
  const h = new Uint8Array(PACKETS_HEADER_BYTES);
  h.set(PACKETS_MAGIC);
  h[8] = PACKETS_VERSION & 0xff;
  h[9] = PACKETS_VERSION >>> 8;
  h[10] = PACKETS_HEADER_BYTES;
  h[11] = 0;
  writeU32LE(h, 12, crc32(h, 0, 0, 12));
  return h;
}

/** Why a record cannot be written, or null. */
export function packetRecordProblem(direction: number, timeMs: number, length: number): string | null {
  if (direction !== CLIENT_TO_SERVER && direction !== SERVER_TO_CLIENT) return `direction must be 0 (client → server) or 1 (server → client), got ${direction}`;
  if (!(Number.isFinite(timeMs) && timeMs >= 0)) return `capture time must be a finite number of ms >= 0, got ${timeMs}`;
  if (length > MAX_RECORD_BYTES) return `a ${length}-byte message exceeds the ${MAX_RECORD_BYTES}-byte record limit`;
  return null;
}

/** One record, ready to append. The message bytes are copied. */
export function encodePacketRecord(direction: PacketDirection, timeMs: number, bytes: Uint8Array): Uint8Array {
  const problem = packetRecordProblem(direction, timeMs, bytes.length);
  if (problem !== null) throw new SessionError('SESSION_ERR_INVALID', `packet record: ${problem}`, { file: PACKETS_FILE });
  const out = new Uint8Array(RECORD_OVERHEAD + bytes.length);
  out[0] = RECORD_SYNC;
  out[1] = direction;
  writeF64LE(out, 4, timeMs);
  writeU32LE(out, 12, bytes.length);
  writeU32LE(out, 16, crc32(out, 0, 0, 16));
  out.set(bytes, RECORD_HEADER_BYTES);
  const end = RECORD_HEADER_BYTES + bytes.length;
  writeU32LE(out, end, crc32(out, 0, 0, end));
  return out;
}

type Check = { readonly ok: true; readonly size: number } | { readonly ok: false; readonly need: true } | { readonly ok: false; readonly need: false; readonly reason: string };
const NEED: Check = { ok: false, need: true };
const bad = (reason: string): Check => ({ ok: false, need: false, reason });

/** Validates the record starting at b[p]: complete and good, incomplete so far, or bad. */
function checkRecord(b: Uint8Array, p: number): Check {
  const avail = b.length - p;
  // Check what a partial header already shows, so garbage at the end is not called a torn tail.
  if (avail >= 1 && b[p] !== RECORD_SYNC) return bad(`record does not start with the sync byte 0xa5 (found 0x${b[p]!.toString(16).padStart(2, '0')})`);
  if (avail >= 2 && b[p + 1]! > 1) return bad(`record direction ${b[p + 1]} is neither 0 nor 1`);
  if (avail >= 4 && (b[p + 2] !== 0 || b[p + 3] !== 0)) return bad('record flags are not 0');
  if (avail < RECORD_HEADER_BYTES) return NEED;
  if (readU32LE(b, p + 16) !== crc32(b, 0, p, p + 16)) return bad('record header CRC mismatch');
  const time = readF64LE(b, p + 4);
  if (!(Number.isFinite(time) && time >= 0)) return bad(`record capture time ${time} is not a finite ms >= 0`);
  const length = readU32LE(b, p + 12);
  if (length > MAX_RECORD_BYTES) return bad(`record length ${length} exceeds ${MAX_RECORD_BYTES}`);
  const end = p + RECORD_HEADER_BYTES + length;
  if (b.length < end + 4) return NEED;
  if (readU32LE(b, end) !== crc32(b, 0, p, end)) return bad('record CRC mismatch');
  return { ok: true, size: RECORD_OVERHEAD + length };
}

/** Push parser for packets.bin (see LogReadOptions for salvage and strict). */
export class PacketLogDecoder extends LogDecoder<ReadPacket> {
  private headerDone = false;
  private scanning = false;

  constructor(options: LogReadOptions = {}, file: string = PACKETS_FILE) {
    super(file, options);
  }

  protected parse(final: boolean): void {
    const w = this.window;
    while (this.error === null && (w.length > 0 || (final && !this.headerDone))) {
      if (!this.headerDone) {
        if (!this.parseHeader(final)) return;
        continue;
      }
      const b = w.view();
      if (this.scanning) {
        // Salvage: slide to the next sync byte and try a record there.
        const p = b.indexOf(RECORD_SYNC);
        if (p < 0) {
          this.corrupt(w.base, b.length, '');
          w.consume(b.length);
          continue;
        }
        if (p > 0) {
          this.corrupt(w.base, p, '');
          w.consume(p);
          continue;
        }
        const c = checkRecord(b, 0);
        if (c.ok) {
          this.scanning = false;
          continue;
        }
        if (!c.need) {
          this.corrupt(w.base, 1, '');
          w.consume(1);
          continue;
        }
        if (!final) return;
        // The file ends inside a candidate: a torn record only if its header fully checks out.
        if (b.length >= RECORD_HEADER_BYTES) this.truncated(w.base, b.length, 'the file ends inside a record');
        else this.corrupt(w.base, b.length, '');
        w.consume(b.length);
        continue;
      }
      const c = checkRecord(b, 0);
      if (c.ok) {
        this.emit({
          offset: w.base,
          direction: b[1] as PacketDirection,
          timeMs: readF64LE(b, 4),
          bytes: b.slice(RECORD_HEADER_BYTES, c.size - 4),
        });
        w.consume(c.size);
      } else if (c.need) {
        if (!final) return;
        this.truncated(w.base, b.length, 'the file ends inside a record');
        w.consume(b.length);
      } else {
        this.corrupt(w.base, 1, c.reason);
        if (this.error !== null) return;
        this.scanning = true;
        w.consume(1);
      }
    }
  }

  /** False while the header is incomplete (or unusable); true once it is consumed. */
  private parseHeader(final: boolean): boolean {
    const w = this.window;
    const b = w.view();
    const magicSeen = Math.min(b.length, PACKETS_MAGIC.length);
    for (let i = 0; i < magicSeen; i++) {
      if (b[i] !== PACKETS_MAGIC[i]) {
        this.fail(new SessionError('SESSION_ERR_NOT_A_SESSION', `${this.file} does not start with the SolaceLive packet-log signature`, { file: this.file, offset: 0 }));
        return false;
      }
    }
    if (b.length < PACKETS_HEADER_BYTES) {
      if (final) {
        this.truncated(0, b.length, b.length === 0 ? 'the file is empty: it ends before its 16-byte header' : 'the file ends inside its 16-byte header');
        w.consume(b.length);
        this.headerDone = true;
      }
      return false;
    }
    const version = readU16LE(b, 8);
    if (readU32LE(b, 12) !== crc32(b, 0, 0, 12)) {
      this.corrupt(0, PACKETS_HEADER_BYTES, 'file header CRC mismatch');
      if (this.error !== null) return false;
    } else if (!SUPPORTED_LOG_VERSIONS.includes(version)) {
      this.fail(new SessionError('SESSION_ERR_VERSION', `${this.file} is packet-log version ${version}; this reader supports version ${SUPPORTED_LOG_VERSIONS.join(', ')}`, { file: this.file, offset: 8, found: version, supported: SUPPORTED_LOG_VERSIONS }));
      return false;
    } else if (readU16LE(b, 10) !== PACKETS_HEADER_BYTES) {
      this.corrupt(0, PACKETS_HEADER_BYTES, `file header size ${readU16LE(b, 10)} is not ${PACKETS_HEADER_BYTES}`);
      if (this.error !== null) return false;
    }
    w.consume(PACKETS_HEADER_BYTES);
    this.headerDone = true;
    return true;
  }
}
