// `mx.compile` where it is safe to use. In this binding every primitive costs tens of
// microseconds to build and schedule, and elementwise kernels run unvectorised, so a
// compiled function (one graph replayed natively, elementwise chains fused into one
// kernel) is several times faster for op-heavy code such as a transformer step at
// 2 tokens. Results are the same floats as eager.
//
// On CPU, MLX builds each new fused kernel by running `g++` (about 2 s, once; the source
// and .so land in $TMPDIR, ~1.8 MB each, and are reused by later processes). Without a
// compiler the failure would surface at evaluation time, where the binding aborts the
// process, so compilation is used only when `g++` answers, or on a GPU device.
// SOLACELIVE_MLX_COMPILE=0 turns it off, =1 skips the check.
//
// MLX writes a kernel's source and runs g++ on it unguarded: two processes building the
// same kernel at once can read each other's half-written files, which aborts one of
// them. `withCompileLock` serialises first evaluations across processes.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mx } from '../mlx.ts';

let available: boolean | undefined;

export function compileAvailable(): boolean {
  if (available !== undefined) return available;
  const env = process.env.SOLACELIVE_MLX_COMPILE;
  if (env === '0' || env === 'false') available = false;
  else if (env === '1' || env === 'true') available = true;
  else if (mx.defaultDevice().type === mx.gpu) available = true;
  else available = spawnSync('g++', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return available;
}

/** `mx.compile(fn)` when available (see above), otherwise `fn` itself. */
export function compiled<A extends unknown[], R>(fn: (...args: A) => R, enable = true): (...args: A) => R {
  return enable && compileAvailable() ? mx.compile(fn) : fn;
}

const LOCK_STALE_MS = 5 * 60_000;
const LOCK_WAIT_MS = 10 * 60_000;

function holderGone(path: string): boolean {
  try {
    if (Date.now() - statSync(path).mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(readFileSync(path, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs `fn` (which should evaluate every compiled function once, so that their kernels
 * get built) while holding a lock file beside MLX's kernel cache. Without compilation,
 * or when the lock cannot be created at all, `fn` just runs.
 */
export function withCompileLock<T>(fn: () => T): T {
  if (!compileAvailable() || mx.defaultDevice().type === mx.gpu) return fn();
  const path = join(tmpdir(), 'solacelive-mlx-compile.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) return fn();
      if (holderGone(path)) {
        try { unlinkSync(path); } catch { /* another waiter took it */ }
        continue;
      }
      Atomics.wait(pause, 0, 0, 50);
    }
  }
  try {
    return fn();
  } finally {
    try { unlinkSync(path); } catch { /* already gone */ }
  }
}
