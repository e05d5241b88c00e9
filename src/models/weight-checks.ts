// What a weight file may hold, checked before MLX sees it: dtypes a model can use, and
// values it can compute with (no NaN, ±Inf or overflow-sized magnitudes). One pass over
// the raw bytes, shared by every model's loader so they refuse the same files alike.
import { closeSync, openSync } from 'node:fs';
import { readExactly, WeightsError, type SafetensorsDtype, type SafetensorsHeader, type TensorInfo } from './safetensors.ts';

/** What MLX loads as floats (it refuses F64 with an untyped error). */
const FLOATING: ReadonlySet<SafetensorsDtype> = new Set(['F32', 'F16', 'BF16']);

/**
 * Every model weight is floating point, except the packed words of a quantized matrix
 * (`X.weight` beside `X.scales`), which are U32. Anything else (an F32 tensor relabelled
 * I32, say) would be reinterpreted bits: refused by name, for every model alike.
 */
export function checkWeightDtypes(header: SafetensorsHeader): void {
  for (const t of header.tensors.values()) {
    const packed = t.name.endsWith('.weight') && header.tensors.has(`${t.name.slice(0, -'.weight'.length)}.scales`);
    if (packed ? t.dtype !== 'U32' : !FLOATING.has(t.dtype)) {
      throw new WeightsError('WEIGHTS_ERR_DTYPE', `tensor ${t.name} is ${t.dtype}; expected ${packed ? 'U32 (packed quantized weights)' : 'a floating-point dtype (F32, F16 or BF16)'}`, header.path);
    }
  }
}

/**
 * Largest magnitude a weight may hold: 2^64 ≈ 1.8e19 = √(float32 max). Two such values
 * multiplied (a weight times an activation of its own scale, q·k, a norm weight applied
 * to a projection) overflow float32 to Inf and then NaN, so a model holding one cannot
 * be trusted to compute finite outputs, and no trained checkpoint comes near it (their
 * weights are below 1e4). NaN and ±Inf are refused as well: MLX's compiled kernels abort
 * the process on a NaN bias, and a NaN weight silently turns every code into 0.
 */
export const MAX_WEIGHT_MAGNITUDE = 2 ** 64;
const F32_LIMIT_BITS = 0x5f800000; // bits of 2^64 as float32: |x| ≥ it ⇔ (bits & 0x7fffffff) ≥ it
const BF16_LIMIT_BITS = F32_LIMIT_BITS >>> 16; // bf16 is the upper half of a float32
const F16_NONFINITE_BITS = 0x7c00; // f16 cannot reach 2^64: only Inf/NaN (exponent all ones)

function describeBad(t: TensorInfo, index: number, value: number): string {
  const at: number[] = [];
  let rest = index;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    at.unshift(rest % t.shape[d]!);
    rest = Math.floor(rest / t.shape[d]!);
  }
  const shown = Number(value.toPrecision(7)).toExponential(); // 3e+38, not 3.0000000054977558e+38
  const what = Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? `${shown} (|x| ≥ 2^64, would overflow float32 in compute)` : `${value}`;
  return `tensor ${t.name} (${t.dtype}[${t.shape.join(',')}]): element ${index} [${at.join(',')}] is ${what}`;
}

function f16Value(bits: number): number {
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  return exp === 0x1f ? (frac ? NaN : sign * Infinity) : sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** First element out of range in a chunk (index within the chunk), or -1. Bit tests: no float decode in the loop. */
function firstBad(dtype: SafetensorsDtype, buf: ArrayBuffer, bytes: number): number {
  switch (dtype) {
    case 'F32': {
      const u = new Uint32Array(buf, 0, bytes >> 2);
      for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7fffffff) >= F32_LIMIT_BITS) return i;
      return -1;
    }
    case 'BF16': {
      const u = new Uint16Array(buf, 0, bytes >> 1);
      for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7fff) >= BF16_LIMIT_BITS) return i;
      return -1;
    }
    case 'F16': {
      const u = new Uint16Array(buf, 0, bytes >> 1);
      for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7fff) >= F16_NONFINITE_BITS) return i;
      return -1;
    }
    default:
      return -1; // integers: any bit pattern is a value (packed quantized words)
  }
}

function valueAt(dtype: SafetensorsDtype, buf: ArrayBuffer, i: number): number {
  const dv = new DataView(buf);
  switch (dtype) {
    case 'F32': return dv.getFloat32(4 * i, true);
    case 'BF16': return new Float32Array(new Uint32Array([dv.getUint16(2 * i, true) << 16]).buffer)[0]!;
    default: return f16Value(dv.getUint16(2 * i, true));
  }
}

const SCAN_CHUNK = 8 << 20;

/**
 * One pass over the data section: every floating tensor must hold finite values below
 * MAX_WEIGHT_MAGNITUDE. Throws WEIGHTS_ERR_VALUES naming the tensor and its first bad
 * element. Reads the file in 8 MB chunks (it is in the page cache for MLX's load next).
 */
export function checkWeightValues(header: SafetensorsHeader): void {
  const buf = new ArrayBuffer(SCAN_CHUNK);
  const bytesView = new Uint8Array(buf);
  const fd = openSync(header.path, 'r');
  try {
    for (const t of header.tensors.values()) {
      if (!FLOATING.has(t.dtype)) continue;
      const size = t.dtype === 'F32' ? 4 : 2;
      for (let pos = t.begin; pos < t.end; pos += SCAN_CHUNK) {
        const n = Math.min(SCAN_CHUNK, t.end - pos);
        const got = readExactly(fd, n, header.dataStart + pos, bytesView);
        if (got.length !== n) throw new WeightsError('WEIGHTS_ERR_TRUNCATED', `tensor ${t.name}: file ended while reading it`, header.path);
        const bad = firstBad(t.dtype, buf, n);
        if (bad >= 0) {
          throw new WeightsError('WEIGHTS_ERR_VALUES', describeBad(t, (pos - t.begin) / size + bad, valueAt(t.dtype, buf, bad)), header.path);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
