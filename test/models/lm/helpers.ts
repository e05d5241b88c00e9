// Shared by the LM tests: where the reference fixtures are, and the comparison rule of
// their README (max |a − g| ≤ 1e-5 · max |g|, NaN positions excluded).
import { fileURLToPath } from 'node:url';
import { readTensors, type HostTensor } from '../../../src/models/safetensors.ts';

export const REF = fileURLToPath(new URL('../../../../shared/fixtures/reference/', import.meta.url));
export const LM_CONFIG = `${REF}lm_config.json`;
export const LM_MLX = `${REF}lm.mlx.safetensors`;
export const LM_PT = `${REF}lm.pytorch.safetensors`;
export const LM_GOLDENS = `${REF}lm_goldens.safetensors`;
export const TOL = 1e-5;

export function goldens(names?: string[]): Map<string, HostTensor> {
  return readTensors(LM_GOLDENS, names);
}

export function ints(t: HostTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export function floats(t: HostTensor): Float32Array {
  return t.data as Float32Array;
}

/** Max |a − g| relative to max |g| over positions where g is not NaN. */
export function relErr(actual: ArrayLike<number>, golden: ArrayLike<number>): { maxAbs: number; peak: number; rel: number } {
  if (actual.length !== golden.length) throw new Error(`length ${actual.length} vs golden ${golden.length}`);
  let maxAbs = 0;
  let peak = 0;
  for (let i = 0; i < golden.length; i++) {
    const g = golden[i]!;
    if (Number.isNaN(g)) continue;
    peak = Math.max(peak, Math.abs(g));
    const d = Math.abs(actual[i]! - g);
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : d);
  }
  return { maxAbs, peak, rel: maxAbs / peak };
}
