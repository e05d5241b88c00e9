// The BLAS pinning of the bench's suite processes: the engine's (src/engine/host.ts), so a
// bench measures the kernels a server runs. `serve` takes the core type from
// SOLACELIVE_BLAS_CORETYPE and otherwise lets OpenBLAS detect the CPU, dropping any
// OPENBLAS_CORETYPE of the shell; a suite process inheriting that variable would time other
// kernels than the engine and record them in the results.
import { blasEnv, blasFromEnv, type BlasPinning } from '../../src/engine/blas.ts';

export { blasEnv };

/** The pinning for a run: `threads` as asked, the core type as `serve` would choose it. */
export function benchBlas(threads: number, env: NodeJS.ProcessEnv = process.env): BlasPinning {
  return blasFromEnv(env, threads);
}

/** Inside a suite process: the pinning the runner gave it, for an engine the suite starts. */
export function pinnedBlas(env: NodeJS.ProcessEnv = process.env): BlasPinning {
  const threads = Number(env.OPENBLAS_NUM_THREADS);
  return { threads: Number.isInteger(threads) && threads > 0 ? threads : 1, coreType: env.OPENBLAS_CORETYPE || null };
}
