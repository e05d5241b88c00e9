// The host a measurement ran on, without touching MLX (so protocol benchmarks and the
// viewer's Node side can use it). src/models/platform.ts adds the MLX device and BLAS.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface HostFingerprint {
  readonly os: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  /** Package version and git commit of the code that ran (null outside a checkout). */
  readonly version: string;
  readonly commit: string | null;
}

function gitCommit(cwd: string): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return null;
  }
}

export type HostBasics = Omit<HostFingerprint, 'version' | 'commit'>;

/** OS, CPU, memory and Node of this process: the part every fingerprint shares. */
export function hostBasics(): HostBasics {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

export function hostFingerprint(packageRoot: string, version: string): HostFingerprint {
  return { ...hostBasics(), version, commit: gitCommit(packageRoot) };
}
