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

  /**
   * Starts `solacelive serve ARGS` and resolves once it listens (and, with `modelReady`, once
   * its model is ready), with its ws:// URL and its stderr so far; rejects with that stderr
   * when it exits first or takes longer than timeoutMs. `env`: the child's environment (default: this one's).
   */
  serve(args: readonly string[], timeoutMs = 45_000, modelReady = false, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; url: string; log: () => string }> {
    const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.children.push(child);
    let log = '';
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve did not listen within ${timeoutMs} ms:\n${log}`)), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`serve exited (${code}) before it listened:\n${log}`));
      });
      child.stderr!.on('data', (d) => {
        log += d;
        const m = /listening on (ws:\/\/\S+)/.exec(log);
        if (m && (!modelReady || /model \S+ ready/.test(log))) {
          clearTimeout(t);
          resolve({ child, url: m[1]!, log: () => log });
        }
      });
    });
  }

  /** SIGKILL every child still running. */
  killAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
