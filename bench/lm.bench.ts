// Moshi LM step benchmark: one full LmGen step (temporal transformer, text sampling,
// dep_q depformer sub-steps with audio sampling) at the real 7B shape in q4 and q8, the
// 2B shape in q4, and tiny float models, against a memory-bandwidth floor measured in the
// same process: bytes of weights one step reads ÷ copy bandwidth (read + write bytes per
// second of a 1 GiB memcpy; MLX's own elementwise copy is reported beside it).
// Weights are seeded random, generated already quantized (no f32 copy of a 7B model).
// Each case runs in its own child process so memory starts flat.
//   node bench/lm.bench.ts [--quick] [--case NAME[,NAME]] [--steps N] [--quant-streams N] [--json OUT]
// --quant-streams: CPU streams a quantized matmul's rows are split over (default min(2, cores)).
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';
import { evaluate, mx, type MxArray } from '../src/models/mlx.ts';
import { lmConfigFromJson, loadLmConfig, type LmConfig } from '../src/models/lm/config.ts';
import { LmGen } from '../src/models/lm/generate.ts';
import { Lm } from '../src/models/lm/lm.ts';
import { buildLmWeights, expectedShapes, loadLm } from '../src/models/lm/weights.ts';
import type { QuantSpec } from '../src/models/nn/linear.ts';
import { makeResult, ROOT, writeResult, type TaskFigures } from './lib/suite.ts';

interface Case {
  readonly name: string;
  readonly describe: string;
  readonly config: () => LmConfig;
  readonly quant: QuantSpec | null;
  /** Reference weights file instead of random ones. */
  readonly file?: string;
  readonly steps: number;
  readonly quickSteps: number;
  readonly inQuick: boolean;
}

const configs = join(ROOT, 'configs');
const REF = join(ROOT, '..', 'shared', 'fixtures', 'reference');
const tinyShape = (dim: number, layers: number) => () => lmConfigFromJson({
  ...(JSON.parse(readFileSync(join(configs, 'moshi_7b_202409.json'), 'utf8')) as Record<string, unknown>),
  dim, num_heads: dim / 64, num_layers: layers, depformer_dim: 256, depformer_num_heads: 4, depformer_num_layers: 2, depformer_dim_feedforward: Math.trunc(256 * 4.125),
});

const CASES: readonly Case[] = [
  { name: '7b-q4', describe: 'moshi 7B shape (32 × d4096 + depformer 8 × 6 × d1024), q4 group 32', config: () => loadLmConfig(join(configs, 'moshi_7b_202409.json')), quant: { bits: 4, groupSize: 32 }, steps: 8, quickSteps: 3, inQuick: true },
  { name: '7b-q8', describe: 'moshi 7B shape, q8 group 64', config: () => loadLmConfig(join(configs, 'moshi_7b_202409.json')), quant: { bits: 8, groupSize: 64 }, steps: 6, quickSteps: 2, inQuick: false },
  { name: '2b-q4', describe: 'moshi_mlx 2B shape (24 × d2560 + depformer 16 × 6 × d1024), q4 group 32', config: () => loadLmConfig(join(configs, 'moshi_mlx_2b.json')), quant: { bits: 4, groupSize: 32 }, steps: 8, quickSteps: 3, inQuick: true },
  { name: 'tiny', describe: 'configs/tiny.json, the embedded default (4 × d256 + depformer 8 × 2 × d128), f32', config: () => loadLmConfig(join(configs, 'tiny.json')), quant: null, steps: 200, quickSteps: 50, inQuick: true },
  { name: 'tiny-d768', describe: 'tiny f32: 8 × d768 + depformer 8 × 2 × d256, real vocabularies', config: tinyShape(768, 8), quant: null, steps: 40, quickSteps: 10, inQuick: true },
  { name: 'tiny-d512', describe: 'tiny f32: 8 × d512 + depformer 8 × 2 × d256, real vocabularies', config: tinyShape(512, 8), quant: null, steps: 40, quickSteps: 10, inQuick: true },
  { name: 'tiny-ref', describe: 'reference fixture LM (d32, 2 layers), f32 file', config: () => loadLmConfig(join(REF, 'lm_config.json')), quant: null, file: join(REF, 'lm.mlx.safetensors'), steps: 200, quickSteps: 50, inQuick: true },
];

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** uint32 words of uniformly random bits (two 16-bit draws: JS numbers reach MLX as float32). */
function randomWords(shape: number[], key: MxArray): MxArray {
  const [k1, k2] = mx.split(mx.random.split(key, 2), 2, 0).map((k) => k.reshape([2]));
  const hi = mx.random.randint(0, 65536, shape, mx.uint32, k1);
  const lo = mx.random.randint(0, 65536, shape, mx.uint32, k2);
  return mx.bitwiseOr(mx.leftShift(hi, mx.array(16, mx.uint32)), lo);
}

/** Seeded random canonical weights; quantized ones packed directly with scale/bias set for std ≈ 1/√in. */
async function randomWeights(cfg: LmConfig, quant: QuantSpec | null, seed: number, gc: () => void): Promise<{ arrays: Record<string, MxArray>; quantMap: Map<string, QuantSpec> }> {
  const arrays: Record<string, MxArray> = {};
  const quantMap = new Map<string, QuantSpec>();
  let i = 0;
  for (const [name, shape] of expectedShapes(cfg)) {
    const key = mx.random.key(seed * 100_003 + i++);
    if (shape.length === 1) {
      arrays[name] = mx.random.uniform(0.8, 1.2, shape, mx.float32, key);
    } else if (!quant) {
      arrays[name] = mx.random.normal(shape, mx.float32, 0, 1 / Math.sqrt(shape[1]!), key);
    } else {
      const [out, inD] = shape as [number, number];
      const base = name.slice(0, -'.weight'.length);
      const levels = 2 ** quant.bits - 1;
      const s = Math.sqrt(12) / (levels * Math.sqrt(inD));
      const scales = mx.random.uniform(0.9 * s, 1.1 * s, [out, inD / quant.groupSize], mx.float32, mx.random.key(seed * 7 + i));
      arrays[`${base}.weight`] = randomWords([out, (inD * quant.bits) / 32], key);
      arrays[`${base}.scales`] = scales;
      arrays[`${base}.biases`] = mx.multiply(scales, -levels / 2);
      quantMap.set(base, quant);
    }
    evaluate(...Object.values(arrays).slice(-3));
    // Intermediates (random halves, shifts) hold native memory until V8 collects them
    // and their finalizers run, which happens on a later turn of the event loop.
    gc();
    await new Promise((r) => setImmediate(r));
    if (i % 100 === 0) process.stderr.write(`  weights ${i}/${expectedShapes(cfg).size}, RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB\r`);
  }
  process.stderr.write('\n');
  return { arrays, quantMap };
}

interface CaseResult {
  name: string;
  describe: string;
  steps: number;
  setupS: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  temporalP50Ms: number;
  depformerP50Ms: number;
  weightBytesPerStep: number;
  memcpyGBs: number;
  mlxCopyGBs: number;
  floorMs: number;
  floorRatio: number;
  rssGiB: number;
  /** 1-minute load average when the case finished: other work on the machine skews timings. */
  load1: number;
}

function bandwidth(gc: () => void): { memcpy: number; mlx: number } {
  const n = 1 << 30;
  const a = Buffer.alloc(n, 1);
  const b = Buffer.alloc(n);
  let best = 0;
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    a.copy(b);
    best = Math.max(best, (2 * n) / ((performance.now() - t0) / 1000) / 1e9);
  }
  const x = mx.random.uniform(0, 1, [n / 4], mx.float32, mx.random.key(1));
  evaluate(x);
  let mlx = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const y = mx.add(x, 1);
    evaluate(y);
    mlx = Math.max(mlx, (2 * n) / ((performance.now() - t0) / 1000) / 1e9);
    gc();
  }
  return { memcpy: best, mlx };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

async function runCase(c: Case, steps: number, quantStreams: number | undefined): Promise<CaseResult> {
  const gc = gcFn();
  const cfg = c.config();
  const t0 = performance.now();
  const lm = c.file ? loadLm(cfg, c.file).lm : await (async () => {
    const { arrays, quantMap } = await randomWeights(cfg, c.quant, 1234, gc);
    return new Lm(cfg, buildLmWeights(cfg, arrays, quantMap, { quantStreams }));
  })();
  const setupS = (performance.now() - t0) / 1000;
  const gen = new LmGen(lm, { seed: 42 });
  const user = Array.from({ length: cfg.nQ - cfg.depQ }, (_, i) => (i * 37) % cfg.card);
  const temporal: number[] = [];
  const depformer: number[] = [];
  const bench = new Bench({ iterations: steps, time: 1, warmupIterations: 1, warmupTime: 1, warmup: true });
  bench.add(c.name, () => {
    gen.step(user);
  }, {
    afterEach: () => {
      temporal.push(gen.lastTimings.temporalMs);
      depformer.push(gen.lastTimings.depformerMs);
      gc();
    },
  });
  await bench.run();
  const r = bench.getTask(c.name)?.result;
  if (!r || !('latency' in r)) throw new Error(`${c.name}: benchmark did not complete`);
  // The warm-up step's timings were recorded first.
  temporal.splice(0, temporal.length - r.latency.samplesCount);
  depformer.splice(0, depformer.length - r.latency.samplesCount);
  const rssGiB = process.memoryUsage().rss / 2 ** 30;
  const bw = bandwidth(gc);
  const bytes = lm.weightBytesPerStep();
  const floorMs = (bytes / (bw.memcpy * 1e9)) * 1000;
  return {
    name: c.name, describe: c.describe, steps: r.latency.samplesCount, setupS,
    p50Ms: r.latency.p50, p99Ms: r.latency.p99, meanMs: r.latency.mean, minMs: r.latency.min,
    temporalP50Ms: quantile(temporal, 0.5), depformerP50Ms: quantile(depformer, 0.5),
    weightBytesPerStep: bytes, memcpyGBs: bw.memcpy, mlxCopyGBs: bw.mlx, floorMs, floorRatio: r.latency.p50 / floorMs,
    rssGiB,
    load1: loadavg()[0]!,
  };
}

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, case: { type: 'string' }, steps: { type: 'string' }, json: { type: 'string' }, child: { type: 'string' }, 'quant-streams': { type: 'string' } } });
const quantStreams = values['quant-streams'] === undefined ? undefined : Number(values['quant-streams']);

if (values.child) {
  const c = CASES.find((x) => x.name === values.child)!;
  const res = await runCase(c, Number(values.steps), quantStreams);
  process.stdout.write(`@@RESULT ${JSON.stringify(res)}\n`);
} else {
  const wanted = values.case ? values.case.split(',') : CASES.filter((c) => !values.quick || c.inQuick).map((c) => c.name);
  const results: CaseResult[] = [];
  for (const name of wanted) {
    const c = CASES.find((x) => x.name === name);
    if (!c) throw new Error(`unknown case ${name}; cases: ${CASES.map((x) => x.name).join(', ')}`);
    const steps = Number(values.steps ?? (values.quick ? c.quickSteps : c.steps));
    process.stderr.write(`${c.name}: ${c.describe}, ${steps} steps…\n`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', c.name, '--steps', String(steps), ...(quantStreams === undefined ? [] : ['--quant-streams', String(quantStreams)])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
    if (r.status !== 0 || !line) {
      process.stderr.write(`${c.name}: failed (exit ${r.status ?? r.signal})\n`);
      continue;
    }
    const res = JSON.parse(line.slice(9)) as CaseResult;
    results.push(res);
    process.stderr.write(`${c.name}: p50 ${res.p50Ms.toFixed(1)} ms (temporal ${res.temporalP50Ms.toFixed(1)}, depformer ${res.depformerP50Ms.toFixed(1)}), floor ${res.floorMs.toFixed(1)} ms → ${res.floorRatio.toFixed(2)}×\n`);
  }
  const head = ['case', 'p50 ms', 'p99 ms', 'temporal', 'depformer', 'weights/step', 'copy GB/s', 'floor ms', 'p50/floor', 'steps', 'RSS GiB', 'load'];
  const rows = results.map((r) => [r.name, r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), r.temporalP50Ms.toFixed(1), r.depformerP50Ms.toFixed(1), `${(r.weightBytesPerStep / 1e9).toFixed(3)} GB`, r.memcpyGBs.toFixed(1), r.floorMs.toFixed(1), r.floorRatio.toFixed(2), String(r.steps), r.rssGiB.toFixed(1), r.load1.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log([head, ...rows].map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n'));
  console.log('p99 over this few samples is close to the max. Floor = weight bytes per step ÷ memcpy bandwidth (read+write) measured in the same process.');
  const tasks: TaskFigures[] = results.map((r) => ({
    name: r.name, batch: 1, samples: r.steps, p50Us: r.p50Ms * 1000, p99Us: r.p99Ms * 1000, meanUs: r.meanMs * 1000, minUs: r.minMs * 1000, maxUs: r.p99Ms * 1000,
    rmePct: 0, cvPct: 0, opsPerSec: 1000 / r.p50Ms, gbPerSec: r.weightBytesPerStep / (r.p50Ms / 1000) / 1e9,
  }));
  const ratios = Object.fromEntries(results.map((r) => [`${r.name}.p50_over_floor`, r.floorRatio]));
  const result = { ...makeResult('lm', tasks, ratios, { timeMs: 0, warmupMs: 0 }), cases: results };
  console.log(`results: ${writeResult(result, values.json)}`);
}
