// Loading weight files into MLX and checking them against what a model expects.
// Model-specific key renames live in each model's `sanitize`; this module only knows
// files, dtypes and the expected-vs-actual comparison, so every model reports a bad
// checkpoint the same way.
import { mx, type MxArray } from './mlx.ts';
import { readSafetensorsHeader, WeightsError, type SafetensorsHeader } from './safetensors.ts';
import { checkWeightDtypes, checkWeightValues } from './weight-checks.ts';

export interface LoadedFile {
  readonly header: SafetensorsHeader;
  readonly arrays: Record<string, MxArray>;
}

/**
 * Validates a safetensors file (header, dtypes, values), then hands it to MLX. Floating
 * tensors are cast to float32: bf16/f16 matmul aborts the process on CPU in this binding.
 * Pass `keepDtype` for tensors that must stay as stored (quantized weights, indices).
 */
export function loadSafetensors(path: string, keepDtype: (name: string) => boolean = () => false): LoadedFile {
  const header = readSafetensorsHeader(path);
  checkWeightDtypes(header);
  checkWeightValues(header);
  const raw = mx.load(path);
  const arrays: Record<string, MxArray> = {};
  for (const [name, arr] of Object.entries(raw)) {
    const info = header.tensors.get(name);
    const floating = info && (info.dtype === 'BF16' || info.dtype === 'F16');
    arrays[name] = floating && !keepDtype(name) ? arr.astype(mx.float32) : arr;
  }
  return { header, arrays };
}

export interface ExpectedTensor {
  readonly shape: readonly number[];
}

/** Keys named per kind in a mismatch: enough to recognise the problem, short enough to read. */
const SHOWN_KEYS = 3;

/** Whether a checkpoint's tensors are exactly the expected keys with the expected shapes. */
export function weightsMatch(expected: ReadonlyMap<string, ExpectedTensor>, actual: Readonly<Record<string, { readonly shape: readonly number[] }>>): boolean {
  try {
    checkWeights(expected, actual);
    return true;
  } catch (err) {
    if (err instanceof WeightsError) return false;
    throw err;
  }
}

/**
 * Compares the tensors a model expects with those a (sanitized) checkpoint provides and
 * throws one WeightsError counting the missing, extra and mis-shaped keys and naming the
 * first few of each (a whole list ran to kilobytes for weights of another model size).
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
  const show = (label: string, xs: string[]) => (xs.length ? `${label} (${xs.length}): ${xs.slice(0, SHOWN_KEYS).join(', ')}${xs.length > SHOWN_KEYS ? ', …' : ''}` : '');
  const msg = [show('missing', missing), show('unexpected', extra), show('mis-shaped', misShaped)].filter(Boolean).join('; ');
  throw new WeightsError('WEIGHTS_ERR_KEYS', msg, file);
}
