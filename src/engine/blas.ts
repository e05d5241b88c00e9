// How model work pins OpenBLAS, in one place: results depend on the thread count and the
// kernels (OPENBLAS_CORETYPE), so the engine worker, the bench's suite processes and the
// commands that compute in their own process (generate, codec, smoke) all pin them alike and
// record them. The shell's OPENBLAS_CORETYPE is never inherited: SOLACELIVE_BLAS_CORETYPE
// chooses the kernels, else OpenBLAS detects the CPU.

export interface BlasPinning {
  /** OPENBLAS_NUM_THREADS. Pinned because results depend on it. */
  readonly threads: number;
  /** OPENBLAS_CORETYPE, or null to let OpenBLAS detect the CPU (recorded either way). */
  readonly coreType: string | null;
}

export const DEFAULT_BLAS: BlasPinning = { threads: 1, coreType: null };

/** The pinning `serve` uses: SOLACELIVE_BLAS_THREADS (or `threads`) and SOLACELIVE_BLAS_CORETYPE. */
export function blasFromEnv(env: NodeJS.ProcessEnv = process.env, threads?: number): BlasPinning {
  const t = threads ?? Number(env.SOLACELIVE_BLAS_THREADS ?? DEFAULT_BLAS.threads);
  return { threads: Number.isInteger(t) && t > 0 ? t : DEFAULT_BLAS.threads, coreType: env.SOLACELIVE_BLAS_CORETYPE || DEFAULT_BLAS.coreType };
}

/** `base` with OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE set as `blas` says (the core type removed when null). */
export function blasEnv(base: NodeJS.ProcessEnv, blas: BlasPinning): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, OPENBLAS_NUM_THREADS: String(blas.threads) };
  if (blas.coreType) env.OPENBLAS_CORETYPE = blas.coreType;
  else delete env.OPENBLAS_CORETYPE;
  return env;
}

/**
 * Pins this process's own BLAS as the engine pins its worker. OpenBLAS reads the variables
 * when it loads, so call this before MLX is first imported.
 */
export function pinProcessBlas(blas: BlasPinning = blasFromEnv()): void {
  process.env.OPENBLAS_NUM_THREADS = String(blas.threads);
  if (blas.coreType) process.env.OPENBLAS_CORETYPE = blas.coreType;
  else delete process.env.OPENBLAS_CORETYPE;
}
