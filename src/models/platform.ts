// What this process computes on: the facts that change float results (design.md,
// determinism) and so belong in every session's fingerprint and benchmark result.
import { readFileSync, realpathSync } from 'node:fs';
import { hostBasics } from '../telemetry/host.ts';
import { mx } from './mlx.ts';

export interface BlasInfo {
  /** e.g. "openblas-pthread", "openblas-openmp", "reference", "accelerate", "unknown". */
  readonly library: string;
  /** Resolved path of the loaded libblas, when it can be seen (Linux /proc/self/maps). */
  readonly path: string | null;
  /** OPENBLAS_NUM_THREADS as set for this process (null: library default = all cores). */
  readonly threads: string | null;
  /** OPENBLAS_CORETYPE as set for this process (null: auto-detected kernels). */
  readonly coreType: string | null;
}

export interface PlatformFingerprint {
  readonly os: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly mlxDevice: 'cpu' | 'gpu';
  readonly metal: boolean;
  readonly blas: BlasInfo;
}

function classifyBlas(path: string): string {
  if (/openblas-pthread/.test(path)) return 'openblas-pthread';
  if (/openblas-openmp/.test(path)) return 'openblas-openmp';
  if (/openblas-serial/.test(path)) return 'openblas-serial';
  if (/openblas/i.test(path)) return 'openblas';
  if (/blas\/libblas|libblas\.so\.3\.\d/.test(path)) return 'reference';
  if (/mkl/i.test(path)) return 'mkl';
  return 'unknown';
}

/** The BLAS library the MLX binary actually loaded (call after MLX is loaded). */
export function blasInfo(env: NodeJS.ProcessEnv = process.env): BlasInfo {
  const threads = env.OPENBLAS_NUM_THREADS ?? null;
  const coreType = env.OPENBLAS_CORETYPE ?? null;
  if (process.platform === 'darwin') return { library: 'accelerate', path: null, threads, coreType };
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const line = maps.split('\n').find((l) => /\/lib[^/]*blas[^/]*\.so/.test(l));
    const path = line ? line.slice(line.indexOf('/')) : null;
    const resolved = path ? realpathSync(path) : null;
    return { library: resolved ? classifyBlas(resolved) : 'unknown', path: resolved, threads, coreType };
  } catch {
    return { library: 'unknown', path: null, threads, coreType };
  }
}

export function platformFingerprint(): PlatformFingerprint {
  const device = mx.defaultDevice().type === mx.gpu && mx.gpu !== mx.cpu ? 'gpu' : 'cpu';
  let metal = false;
  try {
    metal = process.platform === 'darwin' && mx.metal.isAvailable();
  } catch {
    metal = false;
  }
  return {
    ...hostBasics(),
    mlxDevice: device,
    metal,
    blas: blasInfo(),
  };
}
