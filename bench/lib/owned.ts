// Processes a suite starts (serves, HAProxy, proxies) die with the suite's process, however it
// ends: its close, an error, the runner's SIGTERM, the runner gone (bench/lib/suite-child.ts
// exits on each). None outlives the bench holding a port, a core or the runner's output.
import type { ChildProcess } from 'node:child_process';

const owned = new Set<ChildProcess>();
let hooked = false;

/** Registers `child` to be killed (SIGKILL) when this process exits; returns it. */
export function ownChild<C extends ChildProcess>(child: C): C {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const c of owned) c.kill('SIGKILL');
    });
  }
  owned.add(child);
  child.once('exit', () => owned.delete(child));
  return child;
}
