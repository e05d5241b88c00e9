// Mimi at the real size (configs/mimi_202407.json) with seeded random weights generated in
// memory: encodeStep and decodeStep per 80 ms frame, as ms (p50/p99) and as a fraction of
// the frame budget, then where the time goes per module.
//   node bench/mimi.bench.ts [--time MS] [--json OUT] [--quick] [--config PATH]
//
// Steps are timed in steady state: the transformers' 250-step context is filled first,
// so attention runs over the full window as it does after 10 s of a conversation. The
// per-module breakdown forces evaluation at each module boundary, which adds a little
// scheduling overhead compared with the lazy whole-step graph timed above it.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluate, type MxArray } from '../src/models/mlx.ts';
import { platformFingerprint } from '../src/models/platform.ts';
import { expectedCheckpointKeys, loadMimiConfig, Mimi, type MimiConfig } from '../src/models/mimi/index.ts';
import { formatTable, makeResult, ROOT, runTasks, writeResult } from './lib/suite.ts';
import { randomMimiWeights } from './lib/mimi-weights.ts';
import { speechLikeFrames } from './lib/signal.ts';

const { values } = parseArgs({ options: { time: { type: 'string' }, json: { type: 'string' }, quick: { type: 'boolean' }, config: { type: 'string' } } });
const timeMs = Number(values.time ?? (values.quick ? 1500 : 6000));
const BUDGET_MS = 80;
const SEED = 20240701;

/** Bytes of weights one encodeStep / decodeStep reads (every used tensor once). */
function weightBytesPerFrame(cfg: MimiConfig): { encode: number; decode: number } {
  const used = (k: string) => {
    const m = /^quantizer\.rvq_(first|rest)\.vq\.layers\.(\d+)\._codebook\.embedding_sum$/.exec(k);
    if (m) return Number(m[2]) < (m[1] === 'first' ? cfg.quantizer.nQSemantic : cfg.numCodebooks - cfg.quantizer.nQSemantic);
    return !/_codebook\./.test(k);
  };
  let encode = 0;
  let decode = 0;
  for (const [k, { shape }] of expectedCheckpointKeys(cfg)) {
    if (!used(k)) continue;
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    if (/^(encoder|encoder_transformer|downsample)\./.test(k) || k.endsWith('input_proj.weight')) encode += bytes;
    else if (/^(decoder|decoder_transformer|upsample)\./.test(k) || k.endsWith('output_proj.weight')) decode += bytes;
    else { encode += bytes; decode += bytes; } // codebooks: searched when encoding, gathered when decoding
  }
  return { encode, decode };
}

/** Single-thread memcpy rate (GB/s of bytes copied), best of 3 over 256 MB. */
function memcpyRate(): number {
  const a = Buffer.alloc(256 << 20, 1);
  const b = Buffer.alloc(256 << 20);
  a.copy(b);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    a.copy(b);
    best = Math.min(best, performance.now() - t0);
  }
  return (256 << 20) / (best / 1000) / 1e9;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Module of a tap name, for the breakdown. */
function moduleOf(name: string): string | null {
  switch (name) {
    case 'encoder': return 'encoder SEANet';
    case 'decoder': return 'decoder SEANet';
    case 'encoder_transformer': return 'encoder transformer';
    case 'downsample': return 'downsample (25→12.5 Hz)';
    case 'quantizer.rvq_first.input_proj':
    case 'quantizer.rvq_rest.input_proj':
    case 'quantizer': return 'RVQ encode';
    case 'quantizer.decode': return 'RVQ decode';
    case 'upsample': return 'upsample (12.5→25 Hz)';
    case 'decoder_transformer': return 'decoder transformer';
    default: return null;
  }
}

async function main(): Promise<void> {
  const cfgPath = values.config ?? join(ROOT, 'configs', 'mimi_202407.json');
  const cfg = loadMimiConfig(cfgPath);
  const fp = platformFingerprint();
  console.log(`Mimi benchmark: ${cfgPath}`);
  console.log(`${fp.cpuModel}, ${fp.cores} cores, node ${fp.node}, MLX ${fp.mlxDevice}, BLAS ${fp.blas.library} (threads ${fp.blas.threads ?? 'auto'}, core type ${fp.blas.coreType ?? 'auto'})`);
  const load0 = loadavg()[0]!;
  const copyGBs = memcpyRate();
  const wb = weightBytesPerFrame(cfg);
  console.log(`load average ${load0.toFixed(2)} (other processes share these cores); memcpy ${copyGBs.toFixed(1)} GB/s`);
  console.log(`weights read per frame: encode ${(wb.encode / 1e6).toFixed(0)} MB, decode ${(wb.decode / 1e6).toFixed(0)} MB ` +
    `(≥ ${((wb.encode + wb.decode) / 1e6 / copyGBs).toFixed(1)} ms together at the memcpy rate)`);
  let t0 = performance.now();
  const mimi = new Mimi(cfg);
  mimi.setWeights(randomMimiWeights(cfg, SEED), `random seed ${SEED}`);
  console.log(`weights generated and loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const frame = speechLikeFrames(cfg.frameSize, SEED);

  // Fill the transformer context (and the conv states) before timing.
  const fill = Math.ceil((cfg.transformer.context ?? 0) / cfg.resampleStride) + 2;
  t0 = performance.now();
  let codes = mimi.encodeStep(frame(0));
  for (let i = 1; i < fill; i++) {
    codes = mimi.encodeStep(frame(i));
    mimi.decodeStep(codes);
    if (i % 25 === 0) globalThis.gc?.();
  }
  console.log(`context filled (${fill} frames) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  let n = fill;
  const tasks = await runTasks([
    { name: 'encodeStep (1920 samples → 8 codes)', batch: 1, fn: () => { codes = mimi.encodeStep(frame(n++)); } },
    { name: 'decodeStep (8 codes → 1920 samples)', batch: 1, fn: () => { mimi.decodeStep(codes); } },
  ], { timeMs, warmupMs: Math.min(1000, timeMs / 3) });
  console.log(formatTable(tasks));
  const [enc, dec] = tasks as [typeof tasks[0], typeof tasks[0]];
  const ms = (us: number) => us / 1000;
  console.log('');
  console.log(`encodeStep  p50 ${ms(enc.p50Us).toFixed(2)} ms  p99 ${ms(enc.p99Us).toFixed(2)} ms  = ${(ms(enc.p50Us) / BUDGET_MS * 100).toFixed(1)}% of ${BUDGET_MS} ms`);
  console.log(`decodeStep  p50 ${ms(dec.p50Us).toFixed(2)} ms  p99 ${ms(dec.p99Us).toFixed(2)} ms  = ${(ms(dec.p50Us) / BUDGET_MS * 100).toFixed(1)}% of ${BUDGET_MS} ms`);
  console.log(`both        p50 ${ms(enc.p50Us + dec.p50Us).toFixed(2)} ms  = ${((ms(enc.p50Us + dec.p50Us)) / BUDGET_MS * 100).toFixed(1)}% of the frame budget`);

  // Per-module breakdown: evaluate at each module boundary and time the gaps.
  const steps = values.quick ? 10 : 30;
  const perModule = new Map<string, number[]>();
  let last = 0;
  let acc = new Map<string, number>();
  const push = (m: Map<string, number[]>, k: string, v: number) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  const tap = (name: string, v: MxArray) => {
    evaluate(v);
    const now = performance.now();
    const mod = moduleOf(name);
    if (mod) acc.set(mod, (acc.get(mod) ?? 0) + now - last);
    last = now;
  };
  for (let i = 0; i < steps; i++) {
    acc = new Map();
    last = performance.now();
    const start = last;
    codes = mimi.encodeStep(frame(n++), { tap });
    acc.set('encode I/O + state eval', performance.now() - last);
    const mid = performance.now();
    last = mid;
    mimi.decodeStep(codes, { tap });
    acc.set('decode I/O + state eval', performance.now() - last);
    acc.set('= encodeStep total', mid - start);
    acc.set('= decodeStep total', performance.now() - mid);
    for (const [k, v] of acc) push(perModule, k, v);
  }
  const order = ['encoder SEANet', 'encoder transformer', 'downsample (25→12.5 Hz)', 'RVQ encode', 'encode I/O + state eval', '= encodeStep total',
    'RVQ decode', 'upsample (12.5→25 Hz)', 'decoder transformer', 'decoder SEANet', 'decode I/O + state eval', '= decodeStep total'];
  console.log(`\nper module, median of ${steps} profiled steps (ms; evaluation forced at each module boundary):`);
  const breakdown: Record<string, number> = {};
  for (const k of order) {
    const v = [...(perModule.get(k) ?? [0])].sort((a, b) => a - b);
    breakdown[k] = quantile(v, 0.5);
    console.log(`  ${k.padEnd(28)} ${quantile(v, 0.5).toFixed(2).padStart(7)}   p99 ${quantile(v, 0.99).toFixed(2)}`);
  }

  // Inside SEANet: the eager layer-by-layer path (uncompiled, so slower in total), to see
  // which layers dominate.
  const perLayer = new Map<string, number[]>();
  const layerTap = (name: string, v: MxArray) => {
    evaluate(v);
    const now = performance.now();
    if (name.includes('.model.')) push(perLayer, name, now - last);
    last = now;
  };
  for (let i = 0; i < Math.max(3, steps / 5); i++) {
    last = performance.now();
    codes = mimi.encodeStep(frame(n++), { tap: layerTap, eager: true });
    last = performance.now();
    mimi.decodeStep(codes, { tap: layerTap, eager: true });
  }
  console.log('\nSEANet layers, eager path (median ms, upstream module index:ms):');
  const layers: Record<string, number> = {};
  for (const [k, v] of perLayer) layers[k] = quantile([...v].sort((a, b) => a - b), 0.5);
  for (const prefix of ['encoder', 'decoder']) {
    console.log(`  ${prefix}: ${Object.entries(layers).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => `${k.split('.').pop()}:${v.toFixed(1)}`).join('  ')}`);
  }

  console.log(`\nload average at the end ${loadavg()[0]!.toFixed(2)}`);
  const ratios: Record<string, number> = {
    loadAverageStart: load0, loadAverageEnd: loadavg()[0]!, memcpyGBs: copyGBs, weightMBEncode: wb.encode / 1e6, weightMBDecode: wb.decode / 1e6,
    encodeP50Ms: ms(enc.p50Us), encodeP99Ms: ms(enc.p99Us), decodeP50Ms: ms(dec.p50Us), decodeP99Ms: ms(dec.p99Us),
    encodeBudgetFraction: ms(enc.p50Us) / BUDGET_MS, decodeBudgetFraction: ms(dec.p50Us) / BUDGET_MS,
    ...Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [`module ${k} ms`, v])),
  };
  const path = writeResult(makeResult('mimi', tasks, ratios, { timeMs, warmupMs: Math.min(1000, timeMs / 3) }), values.json);
  console.log(`\nresult: ${path}`);
}

await main();
