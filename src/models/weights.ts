// Loading weight files into MLX and checking them against what a model expects.
// Model-specific key renames live in each model's `sanitize`; this module only knows
// files, dtypes and the expected-vs-actual comparison, so every model reports a bad
// checkpoint the same way.
import { mx, type MxArray } from './mlx.ts';
import { readSafetensorsHeader, WeightsError, type SafetensorsHeader } from './safetensors.ts';

export interface LoadedFile {
  readonly header: SafetensorsHeader;
  readonly arrays: Record<string, MxArray>;
}

/**
 * Validates a safetensors file, then hands it to MLX. Floating tensors are cast to
 * float32: bf16/f16 matmul aborts the process on CPU in this binding. Pass
 * `keepDtype` for tensors that must stay as stored (quantized weights, indices).
 */
export function loadSafetensors(path: string, keepDtype: (name: string) => boolean = () => false): LoadedFile {
  const header = readSafetensorsHeader(path);
  const raw = mx.load(path);
  const arrays: Record<string, MxArray> = {};
  for (const [name, arr] of Object.entries(raw)) {
    const info = header.tensors.get(name);
    const floating = info && (info.dtype === 'BF16' || info.dtype === 'F16' || info.dtype === 'F64');
    arrays[name] = floating && !keepDtype(name) ? arr.astype(mx.float32) : arr;
  }
  return { header, arrays };
}

export interface ExpectedTensor {
  readonly shape: readonly number[];
}

/**
 * Compares the tensors a model expects with those a (sanitized) checkpoint provides and
 * throws one WeightsError listing every missing, extra and mis-shaped key.
 */
export function checkWeights(
  expected: ReadonlyMap<string, ExpectedTensor>,
  actual: Readonly<Record<string, { readonly shape: readonly number[] }>>,
  file?: string,
): void {
  const missing: string[] = [];
  const misShaped: string[] = [];
  for (const [name, e] of expected) {
    const a = actual[name];
    if (!a) missing.push(name);
    else if (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape[i])) {
      misShaped.push(`${name} [${a.shape.join(',')}] (expected [${e.shape.join(',')}])`);
    }
  }
  const extra = Object.keys(actual).filter((k) => !expected.has(k));
  if (missing.length + extra.length + misShaped.length === 0) return;
  const show = (label: string, xs: string[]) => (xs.length ? `${label} (${xs.length}): ${xs.slice(0, 20).join(', ')}${xs.length > 20 ? ', …' : ''}` : '');
  const msg = [show('missing', missing), show('unexpected', extra), show('mis-shaped', misShaped)].filter(Boolean).join('; ');
  throw new WeightsError('WEIGHTS_ERR_KEYS', msg, file);
}
