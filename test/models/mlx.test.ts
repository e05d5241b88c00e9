import { describe, expect, it } from 'vitest';
import { explainLoadFailure, evaluate, mx } from '../../src/models/mlx.ts';
import { blasInfo } from '../../src/models/platform.ts';

describe('MLX binding loader', () => {
  it('computes a matmul that matches plain JS', () => {
    const a = mx.array([[1, 2], [3, 4]]);
    const b = mx.array([[5, 6], [7, 8]]);
    const c = mx.matmul(a, b);
    evaluate(c);
    expect(c.tolist()).toEqual([[19, 22], [43, 50]]);
  });

  it('names the apt package when libblas is missing', () => {
    const msg = explainLoadFailure(new Error('libblas.so.3: cannot open shared object file: No such file or directory'), 'linux');
    expect(msg).toContain('libblas.so.3');
    expect(msg).toContain('apt-get install libopenblas0-pthread');
  });

  it('names the apt package when liblapack is missing', () => {
    const msg = explainLoadFailure(new Error('liblapack.so.3: cannot open shared object file'), 'linux');
    expect(msg).toContain('liblapack.so.3');
    expect(msg).toContain('libopenblas0-pthread');
  });

  it('reports the BLAS library MLX loaded on Linux', () => {
    const info = blasInfo({ OPENBLAS_NUM_THREADS: '1' });
    expect(info.threads).toBe('1');
    if (process.platform === 'linux') expect(info.path).toMatch(/blas/);
  });
});
