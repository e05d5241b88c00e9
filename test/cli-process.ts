// Running `solacelive` as a user does, from tests: a child process of bin/solacelive.mjs
// with its output collected, killed if it outlives its time. Children are tracked so a
// test file can kill what is still running when it ends (killAll in afterAll).
import { spawn, type ChildProcess } from 'node:child_process';

export const BIN = new URL('../bin/solacelive.mjs', import.meta.url).pathname;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class CliProcesses {
  readonly children: ChildProcess[] = [];

  /** Runs `solacelive ARGS` to its exit; rejects (after SIGKILL) when it takes longer than timeoutMs. */
  run(args: readonly string[], timeoutMs: number): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.push(c);
      let stdout = '';
      let stderr = '';
      c.stdout!.on('data', (d) => (stdout += d));
      c.stderr!.on('data', (d) => (stderr += d));
      const t = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`solacelive ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
      }, timeoutMs);
      c.on('exit', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** SIGKILL every child still running. */
  killAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
