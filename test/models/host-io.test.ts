// Float32 data in and out of MLX through tmpfs must carry exactly the bytes the
// element-wise path carries, whatever the values and the layout of the array.
import { describe, expect, it } from 'vitest';
import { evaluate, mx } from '../../src/models/mlx.ts';
import { floatsToMx, mxToFloats } from '../../src/models/nn/host-io.ts';

const bits = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));

describe('host io', () => {
  const odd = Float32Array.from([0, -0, 1.5, -3.25e-38, 1e-45, 3.4e38, -Infinity, Infinity, Math.PI, ...Array.from({ length: 1911 }, (_, i) => Math.sin(i) * 0.7)]);

  it('puts the exact float32 values into an array of the asked shape', () => {
    const x = floatsToMx(odd, [1, odd.length, 1]);
    expect(x.shape).toEqual([1, odd.length, 1]);
    expect(x.dtype).toBe(mx.float32);
    expect(bits(Float32Array.from(mx.reshape(x, [-1]).tolist() as number[]))).toEqual(bits(odd));
  });

  it('reads back the exact values, row-major, also from a transposed view', () => {
    const x = mx.reshape(floatsToMx(odd, [odd.length]), [48, 40]);
    const t = mx.transpose(x);
    evaluate(t);
    expect(bits(mxToFloats(x))).toEqual(bits(odd));
    expect(bits(mxToFloats(t))).toEqual(bits(Float32Array.from(mx.reshape(t, [-1]).tolist() as number[])));
  });

  it('round-trips twice in a row without mixing up the files', () => {
    const a = floatsToMx(Float32Array.from([1, 2, 3]), [3]);
    const b = floatsToMx(Float32Array.from([4, 5]), [2]);
    expect(Array.from(mxToFloats(a))).toEqual([1, 2, 3]);
    expect(Array.from(mxToFloats(b))).toEqual([4, 5]);
  });

  it('refuses a non-float32 array', () => {
    expect(() => mxToFloats(mx.array([1, 2], mx.int32))).toThrow(/float32/);
  });
});
