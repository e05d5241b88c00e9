// The server end to end: `solacelive serve` (tiny model) spawned on loopback, its capacity
// found by the load test (harness/loadtest: real-time Moshi clients, every client's lag p99
// within 80 ms, no stall, no disconnect, no refusal), then each round one level at that
// capacity. Figures: client-measured lag (and its last quarter, which grows when the server
// falls behind), first audio, handshake, and 80 ms over the capacity (ms-per-session).
import { spawn, type ChildProcess } from 'node:child_process';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import { BUDGET_MS } from '../../src/telemetry/index.ts';
import { roundSamples, SERVER_FIGURES } from '../../harness/loadtest/bench.ts';
import { DEFAULT_INPUT, findCapacity, levelLine, parseTarget, runLevel, wavInput, type LevelOptions } from '../../harness/loadtest/index.ts';
import type { SuiteDef } from '../lib/suite-api.ts';

const BIN = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;

/** `solacelive serve --port 0 ARGS`, resolved with its URL once its model is ready. */
function startServe(args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve: model not ready within 120 s:\n${log}`));
    }, 120_000);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${log}`)));
    child.stderr!.on('data', (d) => {
      log += d;
      const m = /listening on (ws:\/\/\S+)/.exec(log);
      if (m && /model \S+ ready/.test(log)) {
        clearTimeout(t);
        resolve({ child, url: m[1]! });
      }
    });
  });
}

export const serverSuite: SuiteDef = {
  name: 'server',
  describe: 'solacelive serve on loopback under the load test: capacity, client-measured lag, first audio',
  async setup(ctx) {
    if (ctx.config !== 'tiny') return { skipped: 'the server suite serves the tiny model (a real model\'s capacity on this machine is a load test away: solacelive loadtest --find-capacity)' };
    const { child, url } = await startServe([]);
    const stop = () => child.kill('SIGKILL');
    process.once('exit', stop);
    try {
      const levelS = ctx.quick ? 3 : 5;
      const base: Omit<LevelOptions, 'clients'> = {
        target: parseTarget(url, 'moshi'), durationS: levelS, rampS: 0.5, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: BUDGET_MS,
        lib: await loadLibopusNode(), connectTimeoutMs: 10_000, record: null, runId: 'bench',
      };
      const c = await findCapacity((n) => runLevel({ ...base, clients: n }), {
        maxClients: ctx.quick ? 4 : 8, timeLimitS: ctx.quick ? 90 : 240, levelS: levelS + 35, onLevel: (l) => ctx.log(`capacity search: ${levelLine(l)}`),
      });
      const n = Math.max(1, c.capacity);
      const capacityNote = `capacity ${c.capacity} (every client's lag p99 <= ${BUDGET_MS} ms, no stall, disconnect or refusal)${c.bound ? ` at least: search bound by ${c.bound}` : ''}; levels: ${c.levels.map((l) => `${l.clients} ${l.pass ? 'pass' : 'fail'}`).join(', ')}`;
      ctx.log(capacityNote);
      const perRound = ctx.perRound ?? levelS;
      return {
        describe: `solacelive serve (tiny) on loopback, Moshi protocol: capacity ${c.capacity} found by the load test; each round ${n} real-time client(s) for ${perRound} s`,
        figures: SERVER_FIGURES,
        notes: [capacityNote, ...c.levels.map(levelLine)],
        async round(_index, tick) {
          const l = await runLevel({ ...base, clients: n, durationS: perRound });
          tick();
          return roundSamples(l, c.capacity);
        },
        async close() {
          child.kill('SIGTERM');
          await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
          process.off('exit', stop);
        },
      };
    } catch (err) {
      stop();
      throw err;
    }
  },
};
