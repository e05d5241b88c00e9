// The processes under a process (ps: Linux and macOS), for stopping a suite process stuck where
// it cannot run its own exit hooks: what it started is killed with it instead of left behind.
import { execFileSync } from 'node:child_process';

/** Every process under `pid`, children before grandchildren; empty when ps cannot be run. */
export function descendants(pid: number): number[] {
  let rows: number[][];
  try {
    rows = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  } catch {
    return [];
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [c, pp] of rows) if (pp === tree[i]) tree.push(c!);
  return tree.slice(1);
}

/** SIGKILLs `pid` and every process under it (the tree read first: once it is gone its children move to init). */
export function killTree(pid: number): void {
  for (const p of [pid, ...descendants(pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
