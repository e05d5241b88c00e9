// Replay and recorder figures:
//  - offline replay speed of the fixture session, as a multiple of real time (median of runs);
//  - recorder overhead per step: time spent in the recorder's hooks on the server's event
//    loop, against the mean step time of the same session (target <= 1 %).
//   node bench/replay.bench.ts [--runs N] [--steps N] [--json OUT]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '../src/client/connect.ts';
import { createEngine } from '../src/cli/serve.ts';
import { createServer } from '../src/server/server.ts';
import { openSession } from '../harness/format/node.ts';
import { Recorder } from '../harness/recorder.ts';
import { replaySession } from '../harness/replayer.ts';

const { values } = parseArgs({ options: { runs: { type: 'string' }, steps: { type: 'string' }, json: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
const steps = Number(values.steps ?? 100);
const fixture = new URL('../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const { engine, reason } = await createEngine(null);
if (!engine) throw new Error(`no engine: ${reason}`);
await engine.start();
const speeds: number[] = [];
for (let i = 0; i < runs; i++) {
  const r = await replaySession(fixture, { engine });
  if (r.comparison.kind === 'diverged') throw new Error(`fixture replay ${r.verdict}`);
  speeds.push(r.speed);
}

const dir = mkdtempSync(join(tmpdir(), 'solacelive-bench-replay-'));
const recorder = new Recorder({ dir, mode: 'all', engineInfo: () => engine.info });
const server = createServer({ port: 0 }, engine, recorder);
const { url } = await server.start();
const frames = Array.from({ length: steps }, (_, k) => Float32Array.from({ length: 1920 }, (_, i) => 0.3 * Math.sin((k * 1920 + i) * 0.02)));
const client = await connect(url, { pace: 'fast', seed: 1 });
await client.run(frames);
await server.stop();
const session = recorder.status()[0]!.path;
let stepMs = 0;
let n = 0;
for await (const s of (await openSession(session)).steps()) {
  stepMs += s.spans['step.total'] ?? 0;
  n++;
}
const o = recorder.overhead();
await engine.close();
rmSync(dir, { recursive: true, force: true });

const result = {
  replay: { session: fixture, runs, speedsX: speeds, medianX: median(speeds) },
  recorder: { steps: o.steps, hookCalls: o.calls, perStepUs: o.perStepMs * 1000, meanStepMs: stepMs / n, percentOfStep: (100 * o.perStepMs) / (stepMs / n) },
};
console.log(`replay    ${fixture}: median ${result.replay.medianX.toFixed(2)}× real time over ${runs} runs (${speeds.map((s) => s.toFixed(2)).join(', ')})`);
console.log(`recorder  ${result.recorder.perStepUs.toFixed(0)} µs per step in hooks over ${o.steps} steps; mean step ${result.recorder.meanStepMs.toFixed(1)} ms → ${result.recorder.percentOfStep.toFixed(2)} % of a step`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
