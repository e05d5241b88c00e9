// Safetensors files: header parsing, validation, typed reads and a writer.
// The MLX binding's loader is lazy and reads a truncated data section as zeros without a
// word, so every file is checked here (header JSON, offsets inside the file, sizes that
// match dtype × shape, no overlaps, exact file length) before MLX sees it.
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { CodedError } from '../errors.ts';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Byte offsets relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute file offset of the data section. */
  readonly dataStart: number;
  readonly fileSize: number;
}

export type WeightsErrorCode =
  | 'WEIGHTS_ERR_NOT_FOUND'
  | 'WEIGHTS_ERR_HEADER'
  | 'WEIGHTS_ERR_TRUNCATED'
  | 'WEIGHTS_ERR_LAYOUT'
  | 'WEIGHTS_ERR_KEYS'
  | 'WEIGHTS_ERR_DTYPE'
  /** A weight that is NaN, ±Inf or too large to compute with (see weights.ts). */
  | 'WEIGHTS_ERR_VALUES'
  /** Weights too large to make or hold here (synthesis builds files in memory). */
  | 'WEIGHTS_ERR_SIZE';

/** A weight file that cannot be used, with a stable code and the file it concerns. */
export class WeightsError extends CodedError<WeightsErrorCode> {
  readonly file: string | undefined;
  override readonly name = 'WeightsError';
  constructor(code: WeightsErrorCode, message: string, file?: string) {
    super(code, file ? `${file}: ${message}` : message);
    this.file = file;
  }
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Reads `length` bytes at `position` (into `into` when given); shorter only at end of file. */
export function readExactly(fd: number, length: number, position: number, into?: Uint8Array): Buffer {
  const buf = into ? Buffer.from(into.buffer, into.byteOffset, length) : Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Reads and validates the header of a safetensors file; never reads the data section. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WeightsError('WEIGHTS_ERR_NOT_FOUND', code === 'ENOENT' ? 'file not found' : `cannot open (${code})`, path);
  }
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) throw new WeightsError('WEIGHTS_ERR_TRUNCATED', `file is ${fileSize} bytes, shorter than the 8-byte header length`, path);
    const lenBuf = readExactly(fd, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES) throw new WeightsError('WEIGHTS_ERR_HEADER', `header length ${headerLen} is implausible (not a safetensors file?)`, path);
    if (8 + headerLen > fileSize) throw new WeightsError('WEIGHTS_ERR_TRUNCATED', `header needs ${headerLen} bytes but the file has ${fileSize - 8} after the length`, path);
    const headerBytes = readExactly(fd, headerLen, 8);
    let json: unknown;
    try {
      // fatal: invalid UTF-8 must be refused here, not replaced (MLX's parser throws raw on it).
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
    } catch (err) {
      throw new WeightsError('WEIGHTS_ERR_HEADER', `header is not valid JSON (${(err as Error).message})`, path);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new WeightsError('WEIGHTS_ERR_HEADER', 'header is not a JSON object', path);
    return parseHeader(path, json as Record<string, unknown>, 8 + headerLen, fileSize);
  } finally {
    closeSync(fd);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks every field of a parsed header: MLX's own parser aborts or throws untyped
 * errors on what it does not expect (a non-string metadata value, an unknown dtype), so
 * nothing reaches it unchecked.
 */
function parseHeader(path: string, json: Record<string, unknown>, dataStart: number, fileSize: number): SafetensorsHeader {
  const bad = (code: WeightsErrorCode, msg: string) => new WeightsError(code, msg, path);
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (raw === null) continue;
      if (!isObject(raw)) throw bad('WEIGHTS_ERR_HEADER', `__metadata__ must be an object of strings (got ${Array.isArray(raw) ? 'an array' : typeof raw})`);
      const nonString = Object.entries(raw).find(([, v]) => typeof v !== 'string');
      if (nonString) throw bad('WEIGHTS_ERR_HEADER', `__metadata__.${nonString[0]} must be a string (got ${JSON.stringify(nonString[1])?.slice(0, 40)})`);
      metadata = raw as Record<string, string>;
      continue;
    }
    if (!isObject(raw)) throw bad('WEIGHTS_ERR_HEADER', `tensor ${name}: entry must be an object with dtype, shape and data_offsets`);
    const dtype = raw.dtype as SafetensorsDtype;
    if (typeof raw.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) throw bad('WEIGHTS_ERR_HEADER', `tensor ${name}: unknown dtype ${JSON.stringify(raw.dtype)?.slice(0, 40)}`);
    const shape = raw.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('WEIGHTS_ERR_HEADER', `tensor ${name}: bad shape ${JSON.stringify(shape)?.slice(0, 80)}`);
    const off = raw.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) throw bad('WEIGHTS_ERR_HEADER', `tensor ${name}: bad data_offsets ${JSON.stringify(off)?.slice(0, 80)}`);
    const [begin, end] = off as [number, number];
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (!Number.isSafeInteger(expected)) throw bad('WEIGHTS_ERR_HEADER', `tensor ${name}: shape [${shape.join(',')}] is implausibly large`);
    if (end - begin !== expected) throw bad('WEIGHTS_ERR_LAYOUT', `tensor ${name}: ${end - begin} bytes for ${dtype}[${shape.join(',')}] (expected ${expected})`);
    tensors.set(name, { name, dtype, shape: shape as number[], begin, end });
  }
  // Tensors must tile the data section (no overlap, no gap, as the format requires), and
  // the file must hold all of it.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of sorted) {
    if (t.begin < cursor) throw bad('WEIGHTS_ERR_LAYOUT', `tensor ${t.name} overlaps the previous tensor`);
    if (t.begin > cursor) throw bad('WEIGHTS_ERR_LAYOUT', `tensor ${t.name} starts at byte ${t.begin} of the data section, leaving ${t.begin - cursor} unused bytes before it`);
    cursor = t.end;
  }
  const needed = dataStart + cursor;
  if (fileSize < needed) {
    const cut = sorted.find((t) => dataStart + t.end > fileSize);
    throw bad('WEIGHTS_ERR_TRUNCATED', `file is ${fileSize} bytes but its header describes ${needed} (first incomplete tensor: ${cut?.name}); the download was probably interrupted`);
  }
  if (fileSize > needed) throw bad('WEIGHTS_ERR_LAYOUT', `file has ${fileSize - needed} trailing bytes after the last tensor`);
  return { path, tensors, metadata, dataStart, fileSize };
}

export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array | BigUint64Array;

export interface HostTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** F16/BF16 come back as raw Uint16Array bits; BOOL as Uint8Array. */
  readonly data: TypedData;
}

function view(dtype: SafetensorsDtype, bytes: Uint8Array): TypedData {
  // Copy into a fresh, aligned buffer: tensors need not start on an aligned offset.
  const buf = bytes.slice().buffer;
  switch (dtype) {
    case 'F64': return new Float64Array(buf);
    case 'F32': return new Float32Array(buf);
    case 'I64': return new BigInt64Array(buf);
    case 'U64': return new BigUint64Array(buf);
    case 'I32': return new Int32Array(buf);
    case 'U32': return new Uint32Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'F16': case 'BF16': case 'U16': return new Uint16Array(buf);
    case 'I8': return new Int8Array(buf);
    case 'U8': case 'BOOL': return new Uint8Array(buf);
  }
}

/** Reads tensors into host memory (for goldens, tests and tools; models load through MLX). */
export function readTensors(path: string, names?: readonly string[]): Map<string, HostTensor> {
  const header = readSafetensorsHeader(path);
  const wanted = names ?? [...header.tensors.keys()];
  const out = new Map<string, HostTensor>();
  const fd = openSync(path, 'r');
  try {
    for (const name of wanted) {
      const t = header.tensors.get(name);
      if (!t) throw new WeightsError('WEIGHTS_ERR_KEYS', `no tensor named ${name}`, path);
      const bytes = readExactly(fd, t.end - t.begin, header.dataStart + t.begin);
      out.set(name, { dtype: t.dtype, shape: t.shape, data: view(t.dtype, bytes) });
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

export function readTensor(path: string, name: string): HostTensor {
  return readTensors(path, [name]).get(name)!;
}

export interface TensorToWrite {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView;
}

/**
 * Writes a safetensors file (sorted by decreasing element size so every tensor is
 * aligned to its element size, as upstream writers do). Used for synthetic weights.
 */
export function writeSafetensors(path: string, tensors: Readonly<Record<string, TensorToWrite>>, metadata: Record<string, string> = {}): void {
  const entries = Object.entries(tensors).sort(([an, a], [bn, b]) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const n = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== n) throw new WeightsError('WEIGHTS_ERR_LAYOUT', `tensor ${name}: ${t.data.byteLength} bytes for ${t.dtype}[${t.shape.join(',')}] (expected ${n})`, path);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let pos = 8 + json.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  writeFileSync(path, out);
}
