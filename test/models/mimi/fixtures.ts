// Shared helpers for the Mimi tests: the reference fixtures (upstream PyTorch outputs on
// a tiny Mimi, ../shared/fixtures/reference beside the checkout) and the README's
// comparison rule, max |a − g| ≤ 1e-5 · max |g|.
import { fileURLToPath } from 'node:url';
import { readTensors, type HostTensor } from '../../../src/models/safetensors.ts';
import { evaluate, mx, type MxArray } from '../../../src/models/mlx.ts';
import { loadMimiConfig, Mimi, type MimiConfig } from '../../../src/models/mimi/index.ts';

export const REF_DIR = fileURLToPath(new URL('../../../../shared/fixtures/reference/', import.meta.url));
export const REF = {
  config: `${REF_DIR}mimi_config.json`,
  weights: `${REF_DIR}mimi.safetensors`,
  goldens: `${REF_DIR}mimi_goldens.safetensors`,
  wav: `${REF_DIR}input.wav`,
};
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The README's tolerance for every Mimi float tensor, relative to the golden's peak. */
export const TOLERANCE = 1e-5;

let goldens: Map<string, HostTensor> | undefined;
export function golden(name: string): HostTensor {
  goldens ??= readTensors(REF.goldens);
  const t = goldens.get(name);
  if (!t) throw new Error(`no golden ${name}`);
  return t;
}

export function goldenF32(name: string): Float32Array {
  return golden(name).data as Float32Array;
}

/** Golden codes [1, K, T] int64 → K rows of T numbers. */
export function goldenCodes(name: string): number[][] {
  const t = golden(name);
  const [, k, n] = t.shape as [number, number, number];
  const d = t.data as BigInt64Array;
  return Array.from({ length: k }, (_, r) => Array.from({ length: n }, (_, c) => Number(d[r * n + c])));
}

export function tinyConfig(): MimiConfig {
  return loadMimiConfig(REF.config);
}

export function tinyMimi(opts: { compile?: boolean } = {}): Mimi {
  const m = new Mimi(tinyConfig(), opts);
  m.loadWeights(REF.weights);
  return m;
}

/** max |a − g| / max |g| over equal-length arrays. */
export function relErr(actual: ArrayLike<number>, gold: ArrayLike<number>): number {
  if (actual.length !== gold.length) throw new Error(`length ${actual.length} ≠ golden ${gold.length}`);
  let err = 0;
  let peak = 0;
  for (let i = 0; i < gold.length; i++) {
    err = Math.max(err, Math.abs(actual[i]! - gold[i]!));
    peak = Math.max(peak, Math.abs(gold[i]!));
  }
  return err / peak;
}

/** Channel-last chunks [1, T_i, C] concatenated in time → channel-first flat [C, ΣT]. */
export function channelFirst(chunks: readonly MxArray[]): Float32Array {
  const cat = mx.concatenate([...chunks], 1);
  const [, , c] = cat.shape as [number, number, number];
  const flat = mx.reshape(mx.transpose(mx.reshape(cat, [-1, c]), [1, 0]), [-1]);
  evaluate(flat);
  return Float32Array.from(flat.tolist() as number[]);
}

/** Collects tapped outputs by name, evaluated at once (the graph is dropped as we go). */
export function collector(): { tap: (name: string, v: MxArray) => void; get: (name: string) => MxArray[] } {
  const seen = new Map<string, MxArray[]>();
  return {
    tap: (name, v) => {
      evaluate(v);
      (seen.get(name) ?? seen.set(name, []).get(name)!).push(v);
    },
    get: (name) => seen.get(name) ?? [],
  };
}

export const FRAME = 1920;
export const FRAMES = 40;
