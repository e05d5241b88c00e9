// Moshi LM checkpoints → model weights. One `sanitize` knows every checkpoint key name:
// it recognises the layout from the keys (moshi_mlx `model*.safetensors`, float or
// quantized with `.scales`/`.biases`; or the PyTorch `model.safetensors` naming), maps
// either onto one canonical naming, and `checkLmWeights` compares the result with what
// the config expects, so missing, unexpected and mis-shaped keys name themselves.
//
// Canonical names: the moshi_mlx names for the temporal part and a per-weight-set form
// of the depformer (`depformer.layers.{l}.sets.{s}.…`), which also holds what only the
// PyTorch options have (LayerNorm biases, low-rank embeddings, weight-set schedules).
import { availableParallelism } from 'node:os';
import { evaluate, mx, type MxArray } from '../mlx.ts';
import { Embedding, Linear, type QuantSpec } from '../nn/linear.ts';
import { WeightsError } from '../safetensors.ts';
import { checkWeights, loadSafetensors, type ExpectedTensor } from '../weights.ts';
import type { LmConfig, TransformerConfig } from './config.ts';
import type { DepformerWeights, TokenEmbedding } from './depformer.ts';
import { Lm, type LmWeights } from './lm.ts';
import type { LayerSet, LayerWeights, NormWeights } from './transformer.ts';

export type LmLayout = 'moshi_mlx' | 'pytorch';

type Arrays = Record<string, MxArray>;

export function detectLayout(keys: readonly string[], file?: string): LmLayout {
  const has = (p: string) => keys.some((k) => k.startsWith(p));
  if (has('audio_embs.') || has('depformer.slices.')) return 'moshi_mlx';
  if (has('emb.') || has('depformer_in.') || has('linears.')) return 'pytorch';
  throw new WeightsError('WEIGHTS_ERR_KEYS', `not a Moshi LM checkpoint: no audio embeddings (neither moshi_mlx "audio_embs.*" nor PyTorch "emb.*"); first keys: ${keys.slice(0, 5).join(', ')}`, file);
}

const QUANT_SUFFIXES = ['.weight', '.scales', '.biases'];

/** Splits "prefix.weight" / ".scales" / ".biases" so renames carry quantization tensors along. */
function splitSuffix(key: string): [string, string] {
  for (const s of QUANT_SUFFIXES) if (key.endsWith(s)) return [key.slice(0, -s.length), s];
  return [key, ''];
}

function squeezeNorm(a: MxArray): MxArray {
  // PyTorch RMSNorm stores alpha as [1, 1, D].
  return a.ndim === 3 ? a.reshape([a.shape[2]!]) : a;
}

function sanitizeMlx(src: Arrays, cfg: LmConfig, problems: string[]): Arrays {
  if (cfg.depformer.schedule && cfg.depformer.weightSets !== cfg.depQ) problems.push('moshi_mlx layout cannot express a depformer weight schedule');
  const out: Arrays = {};
  for (const [key, a] of Object.entries(src)) {
    const [base, suffix] = splitSuffix(key);
    let m: RegExpExecArray | null;
    if ((m = /^depformer\.slices\.(\d+)\.(linear_in|linear_out|emb)$/.exec(base))) {
      const k = Number(m[1]);
      if (m[2] === 'linear_in') out[`depformer.in.${k}${suffix}`] = a;
      else if (m[2] === 'linear_out') out[`depformer.heads.${k}${suffix}`] = a;
      else out[k === 0 ? `depformer.text_emb${suffix}` : `depformer.emb.${k - 1}${suffix}`] = a;
    } else if ((m = /^depformer\.slices\.(\d+)\.transformer\.layers\.(\d+)\.(.+)$/.exec(base))) {
      out[`depformer.layers.${m[2]}.sets.${m[1]}.${m[3]}${suffix}`] = a;
    } else {
      out[key] = a;
    }
  }
  return out;
}

function sanitizePytorch(src: Arrays, cfg: LmConfig, problems: string[]): Arrays {
  const out: Arrays = {};
  const sets = cfg.depformer.weightSets;
  const D = cfg.depformerDim;
  for (const [key, a] of Object.entries(src)) {
    let m: RegExpExecArray | null;
    if ((m = /^emb\.(\d+)\.weight$/.exec(key))) out[`audio_embs.${m[1]}.weight`] = a;
    else if ((m = /^(out_norm|transformer\.layers\.\d+\.norm[12])\.alpha$/.exec(key))) out[`${m[1]}.weight`] = squeezeNorm(a);
    else if ((m = /^transformer\.layers\.(\d+)\.self_attn\.in_proj_weight$/.exec(key))) out[`transformer.layers.${m[1]}.self_attn.in_proj.weight`] = a;
    else if ((m = /^depformer_in\.(\d+)\.weight$/.exec(key))) out[`depformer.in.${m[1]}.weight`] = a;
    else if ((m = /^depformer_text_emb\.(weight|low_rank\.weight)$/.exec(key))) out[`depformer.text_emb.${m[1]}`] = a;
    else if ((m = /^depformer_emb\.(\d+)\.(weight|low_rank\.weight)$/.exec(key))) out[`depformer.emb.${m[1]}.${m[2]}`] = a;
    else if ((m = /^linears\.(\d+)\.weight$/.exec(key))) out[`depformer.heads.${m[1]}.weight`] = a;
    else if ((m = /^depformer\.layers\.(\d+)\.self_attn\.(in_proj_weight|out_proj\.weight)$/.exec(key))) {
      // Fused over weight sets: [sets·rows, D], set s = row block s (upstream's load hook split).
      const name = m[2] === 'in_proj_weight' ? 'in_proj' : 'out_proj';
      const rows = (name === 'in_proj' ? 3 : 1) * D;
      if (a.ndim !== 2 || a.shape[0] !== sets * rows || a.shape[1] !== D) {
        problems.push(`${key} [${a.shape.join(',')}] (expected [${sets * rows},${D}]: ${sets} weight sets)`);
        continue;
      }
      for (let s = 0; s < sets; s++) out[`depformer.layers.${m[1]}.sets.${s}.self_attn.${name}.weight`] = a.index(mx.Slice(s * rows, (s + 1) * rows));
    } else if ((m = /^depformer\.layers\.(\d+)\.gating\.(\d+)\.(linear_in|linear_out)\.weight$/.exec(key))) {
      out[`depformer.layers.${m[1]}.sets.${m[2]}.gating.${m[3]}.weight`] = a;
    } else if ((m = /^depformer\.layers\.(\d+)\.(gating\.linear_in|gating\.linear_out|linear1|linear2)\.weight$/.exec(key))) {
      out[`depformer.layers.${m[1]}.sets.0.${m[2]}.weight`] = a;
    } else if ((m = /^depformer\.layers\.(\d+)\.(norm[12])\.(alpha|weight|bias)$/.exec(key))) {
      // One norm shared by every weight set upstream.
      const name = m[3] === 'bias' ? 'bias' : 'weight';
      for (let s = 0; s < sets; s++) out[`depformer.layers.${m[1]}.sets.${s}.${m[2]}.${name}`] = m[3] === 'alpha' ? squeezeNorm(a) : a;
    } else {
      out[key] = a;
    }
  }
  return out;
}

/** Maps a checkpoint's arrays (either layout) onto the canonical names. */
export function sanitize(src: Arrays, cfg: LmConfig, file?: string): { arrays: Arrays; layout: LmLayout; problems: string[] } {
  const layout = detectLayout(Object.keys(src), file);
  const problems: string[] = [];
  const arrays = layout === 'moshi_mlx' ? sanitizeMlx(src, cfg, problems) : sanitizePytorch(src, cfg, problems);
  return { arrays, layout, problems };
}

function layerNames(prefix: string, t: TransformerConfig): Map<string, number[]> {
  const D = t.dim;
  const h = t.hidden;
  const m = new Map<string, number[]>();
  m.set(`${prefix}.self_attn.in_proj.weight`, [3 * D, D]);
  m.set(`${prefix}.self_attn.out_proj.weight`, [D, D]);
  for (const n of ['norm1', 'norm2']) {
    m.set(`${prefix}.${n}.weight`, [D]);
    if (t.norm.startsWith('layer_norm')) m.set(`${prefix}.${n}.bias`, [D]);
  }
  if (t.gating === 'none') {
    m.set(`${prefix}.linear1.weight`, [h, D]);
    m.set(`${prefix}.linear2.weight`, [D, h]);
  } else {
    m.set(`${prefix}.gating.linear_in.weight`, [2 * h, D]);
    m.set(`${prefix}.gating.linear_out.weight`, [D, h]);
  }
  return m;
}

/** Canonical name → logical (float) shape, from the config. */
export function expectedShapes(cfg: LmConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const D = cfg.dim;
  const Dd = cfg.depformerDim;
  m.set('text_emb.weight', [cfg.textCard + 1, D]);
  for (let c = 0; c < cfg.nQ; c++) m.set(`audio_embs.${c}.weight`, [cfg.card + 1, D]);
  m.set('text_linear.weight', [cfg.textCard, D]);
  m.set('out_norm.weight', [D]);
  if (cfg.temporal.norm.startsWith('layer_norm')) m.set('out_norm.bias', [D]);
  for (let l = 0; l < cfg.temporal.numLayers; l++) for (const [k, s] of layerNames(`transformer.layers.${l}`, cfg.temporal)) m.set(k, s);
  for (let i = 0; i < cfg.depformerInputs; i++) m.set(`depformer.in.${i}.weight`, [Dd, D]);
  const r = cfg.depformerLowRank;
  const embs = ['depformer.text_emb', ...Array.from({ length: cfg.depQ - 1 }, (_, k) => `depformer.emb.${k}`)];
  embs.forEach((e, i) => {
    m.set(`${e}.weight`, [i === 0 ? cfg.textCard + 1 : cfg.card + 1, r ?? Dd]);
    if (r !== null) m.set(`${e}.low_rank.weight`, [Dd, r]);
  });
  for (let k = 0; k < cfg.depQ; k++) m.set(`depformer.heads.${k}.weight`, [cfg.card, Dd]);
  for (let l = 0; l < cfg.depformer.numLayers; l++) {
    for (let s = 0; s < cfg.depformer.weightSets; s++) for (const [k, sh] of layerNames(`depformer.layers.${l}.sets.${s}`, cfg.depformer)) m.set(k, sh);
  }
  return m;
}

function quantOf(logicalIn: number, w: MxArray, scales: MxArray): QuantSpec | null {
  const bits = (w.shape[1]! * 32) / logicalIn;
  const groupSize = logicalIn / scales.shape[1]!;
  if (![2, 3, 4, 6, 8].includes(bits) || !Number.isInteger(groupSize) || groupSize < 1) return null;
  return { bits, groupSize };
}

/**
 * Checks canonical arrays against the config. Quantized modules (`X.scales` present) are
 * expected packed: `X.weight` [out, in·bits/32], `X.scales`/`X.biases` [out, in/group].
 * Returns the quantization found per module prefix.
 */
export function checkLmWeights(cfg: LmConfig, arrays: Arrays, problems: readonly string[] = [], file?: string): Map<string, QuantSpec> {
  const logical = expectedShapes(cfg);
  const expected = new Map<string, ExpectedTensor>();
  const quant = new Map<string, QuantSpec>();
  for (const [key, shape] of logical) {
    const prefix = key.slice(0, -'.weight'.length);
    const w = arrays[key];
    const scales = arrays[`${prefix}.scales`];
    if (key.endsWith('.weight') && shape.length === 2 && w && scales && scales.ndim === 2 && w.ndim === 2) {
      const q = quantOf(shape[1]!, w, scales);
      if (q) {
        quant.set(prefix, q);
        expected.set(key, { shape: [shape[0]!, (shape[1]! * q.bits) / 32] });
        expected.set(`${prefix}.scales`, { shape: [shape[0]!, shape[1]! / q.groupSize] });
        expected.set(`${prefix}.biases`, { shape: [shape[0]!, shape[1]! / q.groupSize] });
        continue;
      }
    }
    expected.set(key, { shape });
  }
  try {
    checkWeights(expected, arrays);
  } catch (err) {
    if (!(err instanceof WeightsError)) throw err;
    throw new WeightsError('WEIGHTS_ERR_KEYS', [err.message, ...problems].join('; '), file);
  }
  if (problems.length) throw new WeightsError('WEIGHTS_ERR_KEYS', problems.join('; '), file);
  return quant;
}

export interface BuildOptions {
  /** CPU streams to split quantized matmuls across (default: min(2, cores)). 1 = no split. */
  readonly quantStreams?: number;
}

const sharedStreams: ReturnType<typeof mx.newStream>[] = [];

function streamsFor(n: number): ReturnType<typeof mx.newStream>[] {
  if (n <= 1) return [];
  while (sharedStreams.length < n) sharedStreams.push(mx.newStream(mx.cpu));
  return sharedStreams.slice(0, n);
}

/** Builds model weights from checked canonical arrays. */
export function buildLmWeights(cfg: LmConfig, a: Arrays, quant: ReadonlyMap<string, QuantSpec>, opts: BuildOptions = {}): LmWeights {
  const streams = streamsFor(opts.quantStreams ?? Math.min(2, availableParallelism()));
  const linear = (prefix: string): Linear => {
    const q = quant.get(prefix);
    return q ? Linear.quantized(a[`${prefix}.weight`]!, a[`${prefix}.scales`]!, a[`${prefix}.biases`]!, q, streams) : Linear.float(a[`${prefix}.weight`]!);
  };
  const table = (prefix: string): Embedding => {
    const q = quant.get(prefix);
    return q ? new Embedding(a[`${prefix}.weight`]!, { scales: a[`${prefix}.scales`]!, biases: a[`${prefix}.biases`]!, quant: q }) : new Embedding(a[`${prefix}.weight`]!);
  };
  const norm = (prefix: string): NormWeights => ({ weight: a[`${prefix}.weight`]!, bias: a[`${prefix}.bias`] ?? null });
  const layerSet = (prefix: string, t: TransformerConfig): LayerSet => ({
    norm1: norm(`${prefix}.norm1`),
    norm2: norm(`${prefix}.norm2`),
    inProj: linear(`${prefix}.self_attn.in_proj`),
    outProj: linear(`${prefix}.self_attn.out_proj`),
    ffn: t.gating === 'none'
      ? { kind: 'plain', linear1: linear(`${prefix}.linear1`), linear2: linear(`${prefix}.linear2`) }
      : { kind: 'gated', linearIn: linear(`${prefix}.gating.linear_in`), linearOut: linear(`${prefix}.gating.linear_out`) },
  });
  const temporal: LayerWeights[] = [];
  for (let l = 0; l < cfg.temporal.numLayers; l++) temporal.push({ sets: [layerSet(`transformer.layers.${l}`, cfg.temporal)] });
  const depLayers: LayerWeights[] = [];
  for (let l = 0; l < cfg.depformer.numLayers; l++) {
    depLayers.push({ sets: Array.from({ length: cfg.depformer.weightSets }, (_, s) => layerSet(`depformer.layers.${l}.sets.${s}`, cfg.depformer)) });
  }
  const tokenEmb = (prefix: string): TokenEmbedding => ({ table: table(prefix), lowRank: cfg.depformerLowRank === null ? null : linear(`${prefix}.low_rank`) });
  const depformer: DepformerWeights = {
    inputs: Array.from({ length: cfg.depformerInputs }, (_, i) => linear(`depformer.in.${i}`)),
    textEmb: tokenEmb('depformer.text_emb'),
    audioEmbs: Array.from({ length: cfg.depQ - 1 }, (_, k) => tokenEmb(`depformer.emb.${k}`)),
    heads: Array.from({ length: cfg.depQ }, (_, k) => linear(`depformer.heads.${k}`)),
    layers: depLayers,
  };
  return {
    textEmb: table('text_emb'),
    audioEmbs: Array.from({ length: cfg.nQ }, (_, c) => table(`audio_embs.${c}`)),
    textLinear: linear('text_linear'),
    outNorm: norm('out_norm'),
    temporal,
    depformer,
  };
}

export interface LoadedLm {
  readonly lm: Lm;
  readonly layout: LmLayout;
  /** Quantization found (first quantized module's), or null for a float checkpoint. */
  readonly quant: QuantSpec | null;
}

/** Whether a checkpoint's keys and shapes fit `cfg` (MLX loads lazily: no weight is read). */
export function lmWeightsFit(path: string, cfg: LmConfig): boolean {
  try {
    const raw = mx.load(path);
    const { arrays, problems } = sanitize(raw, cfg, path);
    checkLmWeights(cfg, arrays, problems, path);
    return true;
  } catch (err) {
    if (err instanceof WeightsError) return false;
    throw err;
  }
}

/**
 * Loads an LM checkpoint of either layout. Floating tensors become float32 (bf16 matmul
 * aborts on CPU in this binding); quantized weights stay packed, their scales float32.
 */
export function loadLm(cfg: LmConfig, path: string, opts: BuildOptions = {}): LoadedLm {
  const { arrays: raw } = loadSafetensors(path);
  const { arrays, layout, problems } = sanitize(raw, cfg, path);
  const quant = checkLmWeights(cfg, arrays, problems, path);
  // Read the file now (mx.load is lazy): a first step should not pay for it.
  evaluate(...Object.values(arrays));
  const weights = buildLmWeights(cfg, arrays, quant, opts);
  return { lm: new Lm(cfg, weights), layout, quant: quant.values().next().value ?? null };
}
