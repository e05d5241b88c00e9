// Mimi configuration. Reads upstream's `get_mimi` config dict (`seanet`, `quantizer`,
// `transformer`, plus `num_codebooks`: the layout of `mimi_config.json` in the reference
// fixtures and of configs/mimi_202407.json) and is the only place that turns its
// snake_case keys into camelCase. Options upstream Mimi has but this implementation does
// not run (weight norm, non-causal convs, projections around the transformer, ...) are
// refused by name rather than ignored: a config must mean what it means upstream.
import { readFileSync } from 'node:fs';
import { MimiError } from './errors.ts';

export type PadMode = 'constant' | 'replicate';

export interface SeanetConfig {
  readonly channels: number;
  /** Latent width at the SEANet output (the transformer's d_model). */
  readonly dimension: number;
  readonly nFilters: number;
  readonly nResidualLayers: number;
  /** Decoder order (upsampling); the encoder walks them reversed. */
  readonly ratios: readonly number[];
  readonly kernelSize: number;
  readonly residualKernelSize: number;
  readonly lastKernelSize: number;
  readonly dilationBase: number;
  readonly compress: number;
  readonly padMode: PadMode;
  /** ELU alpha. */
  readonly eluAlpha: number;
}

export interface MimiTransformerConfig {
  readonly dModel: number;
  readonly numHeads: number;
  readonly numLayers: number;
  readonly dimFeedforward: number;
  /** Keys a query may see, itself included (upstream `context`: the ring cache capacity). */
  readonly context: number;
  readonly maxPeriod: number;
  /** Whether the layers carry LayerScale vectors (upstream `layer_scale` not null). */
  readonly layerScale: boolean;
}

export interface QuantizerConfig {
  /** Codebook vector width. */
  readonly dimension: number;
  readonly inputDimension: number;
  readonly outputDimension: number;
  /** Codebooks stored (semantic + acoustic). */
  readonly nQ: number;
  readonly nQSemantic: number;
  readonly bins: number;
}

export interface MimiConfig {
  readonly sampleRate: number;
  readonly frameRate: number;
  readonly seanet: SeanetConfig;
  readonly transformer: MimiTransformerConfig;
  readonly quantizer: QuantizerConfig;
  /** Codebooks used per frame (≤ quantizer.nQ): the length of one column of codes. */
  readonly numCodebooks: number;
  /** Samples per output frame (1920 for Mimi). */
  readonly frameSize: number;
  /** SEANet hop: samples per latent step at the encoder frame rate (960 for Mimi). */
  readonly hopLength: number;
  /** Latent steps per frame: the learnt down/upsampling stride (2 for Mimi). */
  readonly resampleStride: number;
}

type Json = Record<string, unknown>;

// Upstream constructor arguments that only matter for training: accepted and ignored.
const TRAINING_ONLY = new Set(['q_dropout', 'no_quantization_rate', 'decay', 'threshold_usage_ratio', 'replaced_usage_ratio', 'checkpointing', 'betas']);

function fail(message: string): never {
  throw new MimiError('MIMI_ERR_CONFIG', `mimi config: ${message}`);
}

function section(j: Json, key: string): Json {
  const v = j[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`"${key}" must be an object`);
  return v as Json;
}

/**
 * Upper bound of every size in a config: far above real Mimi (512 channels, 8 layers,
 * 2048 bins, 32 codebooks), but a typo or a hostile file cannot make the loader build
 * millions of layers before any weight is read (num_layers 1e6 once ran 31 s into
 * "Map maximum size exceeded").
 */
const MAX_SIZE = 1 << 20;
const MAX_COUNT = 1024;

function int(j: Json, path: string, key: string, fallback?: number, min = 1, max = MAX_SIZE): number {
  const v = j[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${path}${key} must be an integer in ${min}..${max} (got ${JSON.stringify(j[key])})`);
  return v;
}

function positive(j: Json, path: string, key: string, fallback?: number): number {
  const v = j[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1e9) fail(`${path}${key} must be a positive number up to 1e9 (got ${JSON.stringify(j[key])})`);
  return v;
}

/** Refuses a key whose value would change inference away from what this code runs. */
function only(j: Json, path: string, key: string, allowed: readonly unknown[], fallback: unknown): unknown {
  const v = key in j ? j[key] : fallback;
  if (!allowed.some((a) => JSON.stringify(a) === JSON.stringify(v))) {
    fail(`${path}${key} = ${JSON.stringify(v)} is not supported (supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')})`);
  }
  return v;
}

function noUnknownKeys(j: Json, path: string, known: readonly string[]): void {
  const unknown = Object.keys(j).filter((k) => !known.includes(k) && !TRAINING_ONLY.has(k));
  if (unknown.length > 0) fail(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => path + k).join(', ')}`);
}

function parseSeanet(j: Json): SeanetConfig {
  const p = 'seanet.';
  noUnknownKeys(j, p, ['channels', 'dimension', 'causal', 'n_filters', 'n_residual_layers', 'activation', 'activation_params', 'compress', 'dilation_base',
    'disable_norm_outer_blocks', 'kernel_size', 'residual_kernel_size', 'last_kernel_size', 'norm', 'norm_params', 'pad_mode', 'ratios', 'true_skip',
    'trim_right_ratio', 'final_activation', 'final_activation_params']);
  only(j, p, 'causal', [true], false);
  only(j, p, 'norm', ['none'], 'none');
  only(j, p, 'activation', ['ELU'], 'ELU');
  only(j, p, 'true_skip', [true], true);
  only(j, p, 'trim_right_ratio', [1, 1.0], 1);
  only(j, p, 'final_activation', [null], null);
  const ratios = j.ratios;
  if (!Array.isArray(ratios) || ratios.length === 0 || ratios.length > 16 || !ratios.every((r) => Number.isInteger(r) && r >= 1 && r <= MAX_COUNT)) {
    fail(`seanet.ratios must be 1 to 16 integers in 1..${MAX_COUNT} (got ${JSON.stringify(ratios)?.slice(0, 80)})`);
  }
  const act = j.activation_params ?? { alpha: 1 };
  if (act === null || typeof act !== 'object' || Array.isArray(act)) fail('seanet.activation_params must be an object');
  const alpha = (act as Json).alpha;
  const eluAlpha = typeof alpha === 'number' && Number.isFinite(alpha) ? alpha : fail(`seanet.activation_params.alpha must be a finite number (got ${JSON.stringify(alpha)})`);
  const channels = int(j, p, 'channels', 1);
  if (channels !== 1) fail(`seanet.channels = ${channels}: only mono Mimi is supported`);
  const c: SeanetConfig = {
    channels,
    dimension: int(j, p, 'dimension'),
    nFilters: int(j, p, 'n_filters'),
    nResidualLayers: int(j, p, 'n_residual_layers', 1, 0, 64),
    ratios: ratios as number[],
    kernelSize: int(j, p, 'kernel_size', 7, 1, MAX_COUNT),
    residualKernelSize: int(j, p, 'residual_kernel_size', 3, 1, MAX_COUNT),
    lastKernelSize: int(j, p, 'last_kernel_size', 7, 1, MAX_COUNT),
    dilationBase: int(j, p, 'dilation_base', 2, 1, 64),
    compress: int(j, p, 'compress', 2, 1, 64),
    padMode: only(j, p, 'pad_mode', ['constant', 'replicate'], 'reflect') as PadMode,
    eluAlpha,
  };
  // Derived sizes (seanet.ts layouts): widths double per ratio; residual convs dilate by base^j.
  const widest = c.nFilters * 2 ** c.ratios.length;
  if (widest > MAX_SIZE) fail(`seanet.n_filters ${c.nFilters} × 2^${c.ratios.length} ratios = ${widest} channels, above ${MAX_SIZE}`);
  if (c.nFilters < c.compress) fail(`seanet.n_filters ${c.nFilters} must be ≥ compress ${c.compress} (residual blocks would have no channels)`);
  const reach = c.nResidualLayers > 0 ? (c.residualKernelSize - 1) * c.dilationBase ** (c.nResidualLayers - 1) : 0;
  if (reach > MAX_SIZE) fail(`seanet.dilation_base ${c.dilationBase}^${c.nResidualLayers - 1} × (residual_kernel_size − 1) = ${reach} samples of receptive field, above ${MAX_SIZE}`);
  return c;
}

function parseTransformer(j: Json, dimension: number): MimiTransformerConfig {
  const p = 'transformer.';
  noUnknownKeys(j, p, ['d_model', 'num_heads', 'num_layers', 'causal', 'layer_scale', 'context', 'conv_layout', 'max_period', 'gating', 'norm',
    'positional_embedding', 'dim_feedforward', 'input_dimension', 'output_dimensions', 'kv_repeat', 'positional_scale']);
  only(j, p, 'causal', [true], false);
  only(j, p, 'conv_layout', [true], false);
  only(j, p, 'gating', ['none'], 'none');
  only(j, p, 'norm', ['layer_norm'], 'layer_norm');
  only(j, p, 'positional_embedding', ['rope'], 'sin');
  only(j, p, 'kv_repeat', [1], 1);
  const dModel = int(j, p, 'd_model');
  const numHeads = int(j, p, 'num_heads', undefined, 1, MAX_COUNT);
  if (dModel % numHeads !== 0 || (dModel / numHeads) % 2 !== 0) fail(`transformer.d_model ${dModel} must split into num_heads ${numHeads} heads of even width`);
  if (dModel !== dimension) fail(`transformer.d_model ${dModel} differs from seanet.dimension ${dimension}: input/output projections are not supported`);
  only(j, p, 'input_dimension', [dModel], dModel);
  only(j, p, 'output_dimensions', [[dModel]], [dModel]);
  // Upstream cannot stream without a context either: its ring cache needs a capacity.
  const context = int(j, p, 'context');
  const ls = j.layer_scale ?? null;
  if (ls !== null && (typeof ls !== 'number' || !Number.isFinite(ls))) fail(`transformer.layer_scale must be a number or null (got ${JSON.stringify(ls)})`);
  return {
    dModel,
    numHeads,
    numLayers: int(j, p, 'num_layers', undefined, 1, MAX_COUNT),
    dimFeedforward: int(j, p, 'dim_feedforward', 2048),
    context,
    maxPeriod: positive(j, p, 'max_period', 10000),
    layerScale: ls !== null,
  };
}

function parseQuantizer(j: Json, dimension: number): QuantizerConfig {
  const p = 'quantizer.';
  noUnknownKeys(j, p, ['dimension', 'n_q', 'bins', 'input_dimension', 'output_dimension', 'n_q_semantic']);
  const dim = int(j, p, 'dimension');
  const q: QuantizerConfig = {
    dimension: dim,
    inputDimension: int(j, p, 'input_dimension', dim),
    outputDimension: int(j, p, 'output_dimension', dim),
    nQ: int(j, p, 'n_q', undefined, 1, MAX_COUNT),
    nQSemantic: int(j, p, 'n_q_semantic', 1, 1, MAX_COUNT),
    bins: int(j, p, 'bins'),
  };
  if (q.inputDimension !== dimension || q.outputDimension !== dimension) fail(`quantizer input/output_dimension (${q.inputDimension}/${q.outputDimension}) must equal seanet.dimension ${dimension}`);
  if (q.nQ <= q.nQSemantic) fail(`quantizer.n_q ${q.nQ} must exceed n_q_semantic ${q.nQSemantic}`);
  return q;
}

/** Parses and checks a `get_mimi`-style config object. Throws MimiError MIMI_ERR_CONFIG. */
export function mimiConfigFromJson(json: unknown): MimiConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('must be a JSON object');
  const j = json as Json;
  noUnknownKeys(j, '', ['sample_rate', 'channels', 'frame_rate', 'seanet', 'quantizer', 'transformer', 'num_codebooks']);
  const seanet = parseSeanet(section(j, 'seanet'));
  const transformer = parseTransformer(section(j, 'transformer'), seanet.dimension);
  const quantizer = parseQuantizer(section(j, 'quantizer'), seanet.dimension);
  const sampleRate = int(j, '', 'sample_rate');
  if (int(j, '', 'channels', 1) !== 1) fail('channels must be 1 (Mimi is mono)');
  const frameRate = positive(j, '', 'frame_rate');
  const hopLength = seanet.ratios.reduce((a, b) => a * b, 1);
  const frameSize = sampleRate / frameRate;
  if (!Number.isInteger(frameSize)) fail(`sample_rate / frame_rate = ${frameSize} is not a whole number of samples`);
  const resampleStride = frameSize / hopLength;
  if (!Number.isInteger(resampleStride) || resampleStride < 2) {
    fail(`frame size ${frameSize} must be a multiple (≥ 2×) of the SEANet hop ${hopLength}: only learnt conv down/upsampling is supported`);
  }
  const numCodebooks = int(j, '', 'num_codebooks', 8);
  if (numCodebooks > quantizer.nQ || numCodebooks < quantizer.nQSemantic) {
    fail(`num_codebooks ${numCodebooks} must be in [${quantizer.nQSemantic}, ${quantizer.nQ}] (n_q_semantic .. quantizer.n_q)`);
  }
  return { sampleRate, frameRate, seanet, transformer, quantizer, numCodebooks, frameSize, hopLength, resampleStride };
}

export function loadMimiConfig(path: string): MimiConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MimiError('MIMI_ERR_CONFIG', `mimi config ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MimiError('MIMI_ERR_CONFIG', `mimi config ${path}: not valid JSON (${(err as Error).message})`);
  }
  return mimiConfigFromJson(json);
}
