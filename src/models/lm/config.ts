// Moshi LM configuration. Reads Kyutai's `config.json` layout (snake_case keys, as
// published with each checkpoint and as `lm_config.json` in the reference fixtures) and
// is the only place that turns those names into camelCase. Missing keys take upstream
// PyTorch `LMModel` defaults, and missing `depformer_*` keys inherit the temporal value,
// because that is how upstream builds its depformer kwargs: a config that omits a key
// must mean what it means upstream.
import { readFileSync } from 'node:fs';
import { CodedError } from '../../errors.ts';

export type NormKind = 'rms_norm_f32' | 'rms_norm' | 'layer_norm' | 'layer_norm_f32';
export type PositionalEmbedding = 'rope' | 'sin' | 'sin_rope' | 'none';
export type Activation = 'silu' | 'gelu' | 'relu' | 'sigmoid' | 'tanh' | 'identity';
/** `none` = plain FFN (linear1 → GELU → linear2); otherwise the gated FFN with that activation. */
export type Gating = 'none' | Activation;

export interface TransformerConfig {
  readonly dim: number;
  readonly numHeads: number;
  readonly numLayers: number;
  /** Width of the FFN hidden layer actually stored (gated hidden, or linear1 outputs). */
  readonly hidden: number;
  readonly gating: Gating;
  readonly norm: NormKind;
  readonly positionalEmbedding: PositionalEmbedding;
  readonly maxPeriod: number;
  /** Attention window in keys including the current one; null = unbounded. */
  readonly context: number | null;
  readonly causal: boolean;
  /** Number of distinct weight sets (1 unless weights vary per step, as in the depformer). */
  readonly weightSets: number;
  /** Step index → weight set. */
  readonly schedule: readonly number[] | null;
}

export interface LmConfig {
  readonly dim: number;
  readonly textCard: number;
  readonly card: number;
  /** Audio streams fed to the temporal transformer (Moshi's dep_q first, then the user's). */
  readonly nQ: number;
  /** Codebooks generated per step by the depformer. */
  readonly depQ: number;
  /** [text, audio 0..nQ-1]. */
  readonly delays: readonly number[];
  readonly textPaddingId: number;
  readonly textEndPaddingId: number;
  readonly temporal: TransformerConfig;
  readonly depformer: TransformerConfig;
  readonly depformerDim: number;
  readonly depformerMultiLinear: boolean;
  /** Number of depformer input projections (dep_q, or max(schedule)+1, or 1). */
  readonly depformerInputs: number;
  readonly depformerLowRank: number | null;
  /** Out-of-scope upstream options present in the file (e.g. conditioners); reported, not run. */
  readonly ignored: readonly string[];
}

export class LmConfigError extends CodedError<'LM_ERR_CONFIG'> {
  override readonly name = 'LmConfigError';
  constructor(message: string) {
    super('LM_ERR_CONFIG', message);
  }
}

const NORMS: readonly NormKind[] = ['rms_norm_f32', 'rms_norm', 'layer_norm', 'layer_norm_f32'];
const POS: readonly PositionalEmbedding[] = ['rope', 'sin', 'sin_rope', 'none'];
const GATINGS: readonly Gating[] = ['none', 'silu', 'gelu', 'relu', 'sigmoid', 'tanh', 'identity'];

/** Special token ids shared by every Moshi LM (upstream `LMModel` properties). */
export const ZERO_TOKEN = -1;
export const UNGENERATED_TOKEN = -2;

/** Upstream `ActivationGating`: 21/8·dim when the FFN is exactly 4·dim, else 2/3 of it. */
export function gatedHidden(dim: number, dimFeedforward: number): number {
  return dimFeedforward === 4 * dim ? Math.floor((21 * dim) / 8) : Math.floor((2 * dimFeedforward) / 3);
}

type Json = Record<string, unknown>;

function num(j: Json, key: string, fallback?: number): number {
  const v = j[key];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new LmConfigError(`config: "${key}" is required`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LmConfigError(`config: "${key}" must be a number (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * Ranges of the sizes a config may ask for. The upper bounds sit far above any Moshi
 * model (7B: dim 4096, 32 layers, 32000 text ids, 2048 audio ids, 16 streams) but keep a
 * typo or a hostile file from building millions of layers or tables before any weight
 * is read (num_layers 1e6 once ran 31 s into "Map maximum size exceeded").
 */
const LIMITS = {
  dim: [1, 65536], heads: [1, 1024], layers: [1, 1024], card: [1, 1 << 20], streams: [1, 64],
  delay: [0, 1024], context: [1, 1 << 20], hidden: [1, 1 << 20], period: [1, 1e9],
} as const satisfies Record<string, readonly [number, number]>;
type Limit = keyof typeof LIMITS;

function int(j: Json, key: string, fallback?: number, limit?: Limit): number {
  const v = num(j, key, fallback);
  const [lo, hi] = limit ? LIMITS[limit] : [0, Number.MAX_SAFE_INTEGER];
  if (!Number.isInteger(v) || v < lo || v > hi) throw new LmConfigError(`config: "${key}" must be an integer in ${lo}..${hi} (got ${v})`);
  return v;
}

function inRange(key: string, v: number, limit: Limit): number {
  const [lo, hi] = LIMITS[limit];
  if (!(v >= lo && v <= hi)) throw new LmConfigError(`config: "${key}" gives ${v}, outside ${lo}..${hi}`);
  return v;
}

function oneOf<T extends string>(j: Json, key: string, allowed: readonly T[], fallback: T): T {
  const v = j[key] ?? fallback;
  if (!allowed.includes(v as T)) throw new LmConfigError(`config: "${key}" is ${JSON.stringify(v)}; supported: ${allowed.join(', ')}`);
  return v as T;
}

function intList(j: Json, key: string): number[] | null {
  const v = j[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0)) throw new LmConfigError(`config: "${key}" must be a list of non-negative integers`);
  return v as number[];
}

/** Builds an LmConfig from a parsed Kyutai `config.json` object. */
export function lmConfigFromJson(j: Json): LmConfig {
  const dim = int(j, 'dim', 128, 'dim');
  const nQ = int(j, 'n_q', 8, 'streams');
  const depQ = int(j, 'dep_q', 8, 'streams');
  if (depQ < 1 || depQ > nQ) throw new LmConfigError(`config: dep_q ${depQ} must be in 1..n_q (${nQ})`);
  const delays = intList(j, 'delays') ?? [0];
  if (delays.length !== nQ + 1) throw new LmConfigError(`config: "delays" has ${delays.length} entries, expected n_q + 1 = ${nQ + 1} (text, then each audio stream)`);
  delays.forEach((d, k) => inRange(`delays[${k}]`, d, 'delay'));
  const hiddenScale = num(j, 'hidden_scale', 4);
  if (!(hiddenScale > 0)) throw new LmConfigError(`config: "hidden_scale" must be positive (got ${hiddenScale})`);
  const numHeads = int(j, 'num_heads', 8, 'heads');
  const numLayers = int(j, 'num_layers', 6, 'layers');
  if (dim % numHeads !== 0) throw new LmConfigError(`config: dim ${dim} is not a multiple of num_heads ${numHeads}`);
  if (j.layer_scale !== undefined && j.layer_scale !== null) throw new LmConfigError('config: layer_scale is not supported in the LM (Moshi checkpoints have none)');
  if (j.depformer_layer_scale !== undefined && j.depformer_layer_scale !== null) throw new LmConfigError('config: depformer_layer_scale is not supported (Moshi checkpoints have none)');
  if (j.depformer_norm !== undefined && j.depformer_norm !== null) throw new LmConfigError('config: depformer_norm is not supported (Moshi checkpoints have none)');
  if (j.demux_second_text_stream) throw new LmConfigError('config: demux_second_text_stream is not supported');
  const norm = oneOf(j, 'norm', NORMS, 'layer_norm');
  const gating = oneOf(j, 'gating', GATINGS, 'none');
  const causal = j.causal === undefined ? true : Boolean(j.causal);
  const maxPeriod = inRange('max_period', num(j, 'max_period', 10000), 'period');
  const ff = inRange('hidden_scale × dim', Math.trunc(hiddenScale * dim), 'hidden');
  const temporal: TransformerConfig = {
    dim,
    numHeads,
    numLayers,
    hidden: gating === 'none' ? ff : gatedHidden(dim, ff),
    gating,
    norm,
    positionalEmbedding: oneOf(j, 'positional_embedding', POS, 'sin'),
    maxPeriod,
    // 0 would be an attention window holding not even the current key.
    context: j.context === undefined || j.context === null ? null : int(j, 'context', undefined, 'context'),
    causal,
    weightSets: 1,
    schedule: null,
  };

  const depDim = int(j, 'depformer_dim', 256, 'dim');
  const depHeads = int(j, 'depformer_num_heads', numHeads, 'heads');
  if (depDim % depHeads !== 0) throw new LmConfigError(`config: depformer_dim ${depDim} is not a multiple of depformer_num_heads ${depHeads}`);
  const depGating = oneOf(j, 'depformer_gating', GATINGS, gating);
  const depFf = j.depformer_dim_feedforward === undefined || j.depformer_dim_feedforward === null
    ? Math.trunc(hiddenScale * depDim)
    : int(j, 'depformer_dim_feedforward', undefined, 'hidden');
  inRange('hidden_scale × depformer_dim', depFf, 'hidden');
  const perStep = Boolean(j.depformer_weights_per_step);
  const schedule = intList(j, 'depformer_weights_per_step_schedule');
  if (schedule && schedule.length !== depQ) throw new LmConfigError(`config: depformer_weights_per_step_schedule has ${schedule.length} entries, expected dep_q = ${depQ}`);
  if (schedule?.some((s) => s >= depQ)) throw new LmConfigError(`config: depformer_weights_per_step_schedule entries must be below dep_q = ${depQ}`);
  if (schedule && !perStep) throw new LmConfigError('config: depformer_weights_per_step_schedule needs depformer_weights_per_step');
  const weightSets = perStep ? (schedule ? Math.max(...schedule) + 1 : depQ) : 1;
  if (depGating === 'none' && weightSets > 1) throw new LmConfigError('config: weights per step need a gated depformer FFN (as upstream)');
  const depformer: TransformerConfig = {
    dim: depDim,
    numHeads: depHeads,
    numLayers: int(j, 'depformer_num_layers', numLayers, 'layers'),
    hidden: depGating === 'none' ? depFf : gatedHidden(depDim, depFf),
    gating: depGating,
    norm,
    positionalEmbedding: oneOf(j, 'depformer_pos_emb', POS, 'sin'),
    maxPeriod: inRange('depformer_max_period', num(j, 'depformer_max_period', maxPeriod), 'period'),
    // Upstream PyTorch drops depformer_context: the depformer sees every sub-step of its frame.
    context: null,
    causal,
    weightSets,
    schedule: perStep ? (schedule ?? Array.from({ length: depQ }, (_, k) => k)) : null,
  };
  const multiLinear = Boolean(j.depformer_multi_linear);
  const lowRank = j.depformer_low_rank_embeddings === undefined || j.depformer_low_rank_embeddings === null ? null : int(j, 'depformer_low_rank_embeddings', undefined, 'dim');
  for (const t of [temporal, depformer]) {
    const prefix = t === depformer ? 'depformer_' : '';
    inRange(`${prefix}FFN hidden width`, t.hidden, 'hidden');
    if (t.positionalEmbedding.includes('rope') && (t.dim / t.numHeads) % 2 !== 0) {
      throw new LmConfigError(`config: ${prefix}dim ${t.dim} / ${prefix}num_heads ${t.numHeads} = ${t.dim / t.numHeads}: RoPE needs an even head width`);
    }
  }
  const textCard = int(j, 'text_card', 32000, 'card');
  const textPaddingId = int(j, 'existing_text_padding_id', 3);
  const textEndPaddingId = int(j, 'existing_text_end_padding_id', 0);
  for (const [k, v] of [['existing_text_padding_id', textPaddingId], ['existing_text_end_padding_id', textEndPaddingId]] as const) {
    if (v >= textCard) throw new LmConfigError(`config: "${k}" ${v} is not a text id (text_card ${textCard})`);
  }
  const ignored: string[] = [];
  if (j.conditioners !== undefined && j.conditioners !== null) ignored.push('conditioners');
  if (j.fuser !== undefined && j.fuser !== null) ignored.push('fuser');
  return {
    dim,
    textCard,
    card: int(j, 'card', 1024, 'card'),
    nQ,
    depQ,
    delays,
    textPaddingId,
    textEndPaddingId,
    temporal,
    depformer,
    depformerDim: depDim,
    depformerMultiLinear: multiLinear,
    depformerInputs: multiLinear ? (schedule ? Math.max(...schedule) + 1 : depQ) : 1,
    depformerLowRank: lowRank,
    ignored,
  };
}

export function loadLmConfig(path: string): LmConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LmConfigError(`cannot read LM config ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LmConfigError(`LM config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new LmConfigError(`LM config ${path} is not a JSON object`);
  return lmConfigFromJson(json as Json);
}

/** Largest delay over all streams: how many calls pass before LmGen returns a frame. */
export function maxDelay(cfg: LmConfig): number {
  return Math.max(...cfg.delays);
}

/** Initial (start) token of stream k: text_card for text, card for audio. */
export function initialToken(cfg: LmConfig, k: number): number {
  return k === 0 ? cfg.textCard : cfg.card;
}
