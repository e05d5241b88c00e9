// RowSplitLinear (src/models/nn/rowsplit.ts), the GEMV behind Mimi's transformer and its
// large short-output convs: the same numbers as a plain x · Wᵀ, split or not.
import { describe, expect, it } from 'vitest';
import { evaluate, mx } from '../../../src/models/mlx.ts';
import { RowSplitLinear } from '../../../src/models/nn/rowsplit.ts';

describe('RowSplitLinear', () => {
  it.each([
    ['split (2048×512, 4 MB)', 2048, 512, [2]],
    ['split, batch of positions', 2048, 512, [1, 37]],
    ['not split (64×32)', 64, 32, [3]],
  ] as const)('%s equals x · Wᵀ', (_, out, inDim, lead) => {
    const w = mx.random.normal([out, inDim], mx.float32, 0, 0.05, mx.random.key(1));
    const x = mx.random.normal([...lead, inDim], mx.float32, 0, 1, mx.random.key(2));
    evaluate(w, x);
    const y = new RowSplitLinear(w).forward(x);
    const want = mx.matmul(x, mx.transpose(w));
    expect(y.shape).toEqual([...lead, out]);
    const err = mx.max(mx.abs(mx.subtract(y, want))).item() as number;
    const peak = mx.max(mx.abs(want)).item() as number;
    expect(err / peak).toBeLessThan(1e-6);
  });
});
