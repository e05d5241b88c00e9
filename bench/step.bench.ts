// Step latency of a model in the real engine process: per-span p50/p95/p99 as fractions
// of the 80 ms budget, the host↔worker IPC overhead, and the worker's RSS drift.
//   node bench/step.bench.ts [--model tiny|DIR|REPO] [--steps N] [--json OUT] [--quick]
import { parseArgs } from 'node:util';
import { EngineHost } from '../src/engine/host.ts';
import { resolveModel } from '../src/engine/models.ts';
import { DEFAULT_SAMPLING } from '../src/engine/types.ts';
import { readWavSync } from '../src/audio/wav-file.ts';
import { splitFrames } from '../src/audio/frames.ts';
import { toMono24k } from '../src/audio/resample.ts';
import { BUDGET_MS, ENGINE_SPANS, summarize, type SpanName } from '../src/telemetry/index.ts';
import { makeResult, ROOT, writeResult } from './lib/suite.ts';
import { join } from 'node:path';

const { values } = parseArgs({ options: { model: { type: 'string' }, steps: { type: 'string' }, json: { type: 'string' }, quick: { type: 'boolean' }, threads: { type: 'string' } } });
const steps = Number(values.steps ?? (values.quick ? 150 : 750));
const WARMUP = 20;

const spec = resolveModel(values.model, (m) => console.error(m));
const threads = Number(values.threads ?? 1);
const host = new EngineHost({ spec, blas: { threads, coreType: null } });
const info = await host.start();
if (!info) throw new Error(`engine did not start: ${host.reason}`);

const wav = readWavSync(join(ROOT, 'fixtures/audio/hello.wav'));
const { frames } = splitFrames(toMono24k(wav.channels, wav.sampleRate).samples);
await host.openSession('bench', { seed: 1, sampling: DEFAULT_SAMPLING });
const spans = new Map<SpanName, number[]>();
const roundTrip: number[] = [];
const rss0 = (await host.stats()).rssBytes;
console.error(`${steps} steps of ${spec.name} (${info.untrained ? 'untrained, ' : ''}BLAS threads ${threads}) after ${WARMUP} warm-up steps…`);
for (let i = 0; i < steps + WARMUP; i++) {
  const t0 = performance.now();
  const out = await host.step({ session: 'bench', step: i, pcm: frames[i % frames.length]!, events: [] });
  const rt = performance.now() - t0;
  if (i < WARMUP) continue;
  roundTrip.push(rt);
  for (const n of ENGINE_SPANS) {
    const v = out.spans[n];
    if (v !== undefined) (spans.get(n) ?? spans.set(n, []).get(n)!).push(v);
  }
}
const rss1 = (await host.stats()).rssBytes;
const ipc = host.ipcOverheadMs.slice(-steps);
await host.close();

const rows: [string, ReturnType<typeof summarize>][] = [...ENGINE_SPANS.map((n) => [n, summarize(spans.get(n) ?? [])] as [string, ReturnType<typeof summarize>]), ['round trip (host)', summarize(roundTrip)], ['ipc overhead', summarize(ipc)]];
const pct = (x: number) => `${((x / BUDGET_MS) * 100).toFixed(1)}%`;
console.log(['span', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'p99/budget'].map((h, i) => (i ? h.padStart(10) : h.padEnd(18))).join(''));
for (const [n, s] of rows) console.log([n.padEnd(18), ...[s.p50, s.p95, s.p99, s.max].map((x) => x.toFixed(2).padStart(10)), pct(s.p99).padStart(10)].join(''));
console.log(`worker RSS ${(rss0 / 1e6).toFixed(0)} → ${(rss1 / 1e6).toFixed(0)} MB over ${steps} steps`);
const result = makeResult('step', [], Object.fromEntries(rows.flatMap(([n, s]) => [[`${n}.p50`, s.p50], [`${n}.p99`, s.p99]])), { timeMs: 0, warmupMs: 0 });
console.log(`results: ${writeResult({ ...result, tasks: [] }, values.json)}`);
