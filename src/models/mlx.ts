// The one place that loads the native MLX binding. Everything in the project imports
// `mx` from here, so a machine without BLAS gets one clear message naming the package to
// install instead of a dlopen stack trace from wherever MLX happened to be touched first.
import { createRequire } from 'node:module';
import type { core } from '@frost-beta/mlx';
import { CodedError } from '../errors.ts';

export type MxArray = core.array;
export type Mx = typeof core;

export class MlxLoadError extends CodedError<'MLX_ERR_LOAD'> {
  override readonly name = 'MlxLoadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('MLX_ERR_LOAD', message, options);
  }
}

/** Explains a failed dlopen in terms of what to install. Exported for tests. */
export function explainLoadFailure(err: unknown, platform = process.platform): string {
  const msg = err instanceof Error ? err.message : String(err);
  const missing = /(lib(?:blas|lapack|gfortran|openblas)[^:\s]*\.so[^:\s]*)/.exec(msg)?.[1];
  if (platform === 'linux' && missing) {
    return `the MLX binding needs ${missing}, which is not installed. ` +
      'Install OpenBLAS: `apt-get install libopenblas0-pthread` (Debian/Ubuntu), ' +
      'or run `npm run setup`, which does it for you.';
  }
  if (/Cannot find module|ENOENT/.test(msg)) {
    return 'the MLX binding (@frost-beta/mlx) is not installed or its native binary is missing; run `npm run setup`.';
  }
  if (/invalid ELF header|wrong ELF class|not a mach-o|incompatible architecture/i.test(msg)) {
    return `the MLX binary in node_modules is for another platform than ${process.platform}-${process.arch}; ` +
      'reinstall with internet access (`rm -rf node_modules && npm run setup`) so the right build is fetched.';
  }
  return `could not load the MLX binding: ${msg}`;
}

function loadBinding(): Mx {
  const require = createRequire(import.meta.url);
  try {
    return (require('@frost-beta/mlx') as { core: Mx }).core;
  } catch (err) {
    throw new MlxLoadError(explainLoadFailure(err), { cause: err });
  }
}

/** The MLX core namespace (`mx` in upstream code). Loaded when this module is imported. */
export const mx: Mx = loadBinding();

const evalFn = (mx as unknown as { eval: (...xs: unknown[]) => void }).eval;

/** `mx.eval`: forces computation of the given arrays (blocking). */
export function evaluate(...arrays: unknown[]): void {
  evalFn(...arrays);
}
