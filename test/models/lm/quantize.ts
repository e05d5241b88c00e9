// Host-side quantization in MLX's format, to make q4/q8 checkpoints from the float
// reference weights (the binding's own quantize rejects rows shorter than 256).
// Per group of `group` columns: scale = (max − min)/(2^bits − 1), bias = min,
// q = round((w − bias)/scale); words are uint32 with the first column in the low bits.
import type { HostTensor, TensorToWrite } from '../../../src/models/safetensors.ts';

export function toBf16Bits(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < u.length; i++) {
    const v = u[i]!;
    out[i] = (v + 0x7fff + ((v >> 16) & 1)) >>> 16; // round to nearest even
  }
  return out;
}

export function quantizeRows(w: Float32Array, rows: number, cols: number, bits: number, group: number): Record<'weight' | 'scales' | 'biases', TensorToWrite> {
  const per = 32 / bits;
  const levels = (1 << bits) - 1;
  const packed = new Uint32Array((rows * cols) / per);
  const groups = cols / group;
  const scales = new Float32Array(rows * groups);
  const biases = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < group; j++) {
        const v = w[r * cols + g * group + j]!;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const s = Math.max((hi - lo) / levels, 1e-8);
      scales[r * groups + g] = s;
      biases[r * groups + g] = lo;
      for (let j = 0; j < group; j++) {
        const col = g * group + j;
        const q = Math.min(levels, Math.max(0, Math.round((w[r * cols + col]! - lo) / s)));
        const word = r * (cols / per) + Math.floor(col / per);
        packed[word] = (packed[word]! | (q << ((col % per) * bits))) >>> 0;
      }
    }
  }
  // Real moshi_mlx q4/q8 files store scales and biases in bf16.
  return {
    weight: { dtype: 'U32', shape: [rows, cols / per], data: packed },
    scales: { dtype: 'BF16', shape: [rows, groups], data: toBf16Bits(scales) },
    biases: { dtype: 'BF16', shape: [rows, groups], data: toBf16Bits(biases) },
  };
}

/**
 * Quantizes every 2-D `.weight` whose row length is a multiple of `group` (what MLX's
 * nn.quantize would do to Linear and Embedding layers); other tensors are kept.
 */
export function quantizeCheckpoint(tensors: ReadonlyMap<string, HostTensor>, bits: number, group: number): { out: Record<string, TensorToWrite>; quantized: string[] } {
  const out: Record<string, TensorToWrite> = {};
  const quantized: string[] = [];
  for (const [name, t] of tensors) {
    const [rows, cols] = t.shape as [number, number];
    if (name.endsWith('.weight') && t.shape.length === 2 && cols % group === 0 && t.dtype === 'F32') {
      const q = quantizeRows(t.data as Float32Array, rows, cols, bits, group);
      const base = name.slice(0, -'.weight'.length);
      out[`${base}.weight`] = q.weight;
      out[`${base}.scales`] = q.scales;
      out[`${base}.biases`] = q.biases;
      quantized.push(base);
    } else {
      out[name] = { dtype: t.dtype, shape: t.shape, data: t.data as ArrayBufferView };
    }
  }
  return { out, quantized };
}

function fromBf16Bits(b: Uint16Array): Float32Array {
  const u = new Uint32Array(b.length);
  for (let i = 0; i < b.length; i++) u[i] = b[i]! << 16;
  return new Float32Array(u.buffer);
}

/** The float checkpoint a quantized one stands for (scale·q + bias), for exactness checks. */
export function dequantizeCheckpoint(q: Readonly<Record<string, TensorToWrite>>, bits: number, group: number): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  const per = 32 / bits;
  const mask = (1 << bits) - 1;
  for (const [name, t] of Object.entries(q)) {
    if (name.endsWith('.scales') || name.endsWith('.biases')) continue;
    const base = name.slice(0, -'.weight'.length);
    const s = q[`${base}.scales`];
    if (!name.endsWith('.weight') || !s) {
      out[name] = t;
      continue;
    }
    const [rows, words] = t.shape as [number, number];
    const cols = words * per;
    const scales = fromBf16Bits(s.data as Uint16Array);
    const biases = fromBf16Bits(q[`${base}.biases`]!.data as Uint16Array);
    const packed = t.data as Uint32Array;
    const w = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const qv = (packed[r * words + Math.floor(c / per)]! >>> ((c % per) * bits)) & mask;
      const gi = r * (cols / group) + Math.floor(c / group);
      w[r * cols + c] = scales[gi]! * qv + biases[gi]!;
    }
    out[name] = { dtype: 'F32', shape: [rows, cols], data: w };
  }
  return out;
}
