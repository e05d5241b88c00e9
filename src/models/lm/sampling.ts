// Seeded token sampling. The random key of every draw is a pure function of (seed, step,
// stream): a session replays to the same tokens in any process, from any step, however
// many other draws happened before. This binding has no `fold_in`, so the (seed, step,
// stream) triple is mixed on the host (SplitMix64) into a 53-bit key seed, which
// `mx.random.key` takes exactly; threefry inside MLX does the rest.
import { CodedError } from '../../errors.ts';
import { mx, type MxArray } from '../mlx.ts';
import { compiled } from '../nn/compile.ts';
import { LruCache } from '../nn/lru.ts';

export interface SamplingParams {
  /** 0 = greedy (argmax, first index on ties). */
  readonly temperature: number;
  /** Keep the k most likely tokens; 0 = no limit. */
  readonly topK: number;
}

/** Upstream PyTorch server defaults. */
export const DEFAULT_TEXT_SAMPLING: SamplingParams = { temperature: 0.7, topK: 25 };
export const DEFAULT_AUDIO_SAMPLING: SamplingParams = { temperature: 0.8, topK: 250 };
export const GREEDY: SamplingParams = { temperature: 0, topK: 0 };

/** Stream ids for key derivation: text, then audio codebook c as 1 + c. */
export const TEXT_STREAM = 0;
export const audioStream = (codebook: number): number => 1 + codebook;

const MASK64 = (1n << 64n) - 1n;

function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

function checkIndex(name: string, v: number): bigint {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`sampling: ${name} must be a non-negative safe integer (got ${v})`);
  return BigInt(v);
}

/** The 53-bit key seed of draw (seed, step, stream). */
export function keySeed(seed: number, step: number, stream: number): number {
  const h = splitmix64(splitmix64(splitmix64(checkIndex('seed', seed)) ^ checkIndex('step', step)) ^ checkIndex('stream', stream));
  return Number(h & ((1n << 53n) - 1n));
}

export function drawKey(seed: number, step: number, stream: number): MxArray {
  return mx.random.key(keySeed(seed, step, stream));
}

/**
 * Samples one token per row of logits [B, V] → int32 [B]: softmax(logits / temperature)
 * restricted to the top-k (exactly k ids, chosen by partition), drawn with the given key.
 */
export function sampleToken(logits: MxArray, p: SamplingParams, key: MxArray | null, temperature?: MxArray): MxArray {
  if (p.temperature <= 0) return mx.argmax(logits, -1).astype(mx.int32);
  if (!key) throw new RangeError('sampling: a draw at temperature > 0 needs a key');
  const V = logits.shape[logits.ndim - 1]!;
  // argpartition in this binding gives wrong rows for non-row-contiguous input (broadcast
  // or transposed); reshaping through a flat vector forces a contiguous copy when needed.
  const scaled = mx.divide(logits.astype(mx.float32), temperature ?? p.temperature).reshape([-1]).reshape(logits.shape);
  if (p.topK > 0 && p.topK < V) {
    const idx = mx.argpartition(mx.negative(scaled), p.topK - 1, -1).index('...', mx.Slice(0, p.topK));
    const choice = mx.random.categorical(mx.takeAlongAxis(scaled, idx, -1), -1, undefined, undefined, key);
    return mx.takeAlongAxis(idx, mx.expandDims(choice, -1), -1).reshape([-1]).astype(mx.int32);
  }
  return mx.random.categorical(scaled, -1, undefined, undefined, key).astype(mx.int32);
}

/**
 * Caches keyed by a client-chosen value stay this small (a session's parameters are
 * client input): a compiled sampler holds ~0.5 MB of native graph, so unbounded maps grew
 * the engine by that much per distinct top-k a client tried. Eight covers the defaults,
 * greedy and the warm-up kinds with room to spare; a miss only costs a rebuild.
 */
export const SAMPLING_CACHE_SIZE = 8;

/**
 * The temperature as an array (float32, the value a JS number operand would take): a
 * compiled graph that divides by a constant bakes the value into a fused kernel's name,
 * so every new temperature would run g++ inside a session's first step.
 */
const temperatures = new LruCache<number, MxArray>(SAMPLING_CACHE_SIZE);
export function temperatureArray(t: number): MxArray {
  return temperatures.getOrCreate(t, () => mx.array(t, mx.float32));
}

/**
 * The top-k a draw over `vocab` ids really uses: 0 (all ids) for any k ≥ vocab, so the
 * many spellings of "no limit" share one compiled graph.
 */
export function effectiveTopK(topK: number, vocab: number): number {
  return topK > 0 && topK < vocab ? topK : 0;
}

type CompiledSample = (logits: MxArray, key: MxArray, temperature: MxArray) => MxArray;
const compiledSamplers = new LruCache<number, CompiledSample>(SAMPLING_CACHE_SIZE);

/** Entry counts of the module's client-keyed caches (for soak tests). */
export function samplingCacheSizes(): { temperatures: number; samplers: number } {
  return { temperatures: temperatures.size, samplers: compiledSamplers.size };
}

/**
 * sampleToken as one compiled graph (a dozen primitives eager), cached per top-k (LRU).
 * Same tokens as sampleToken: compiled graphs compute the same floats as eager.
 */
export function sampleTokenFast(logits: MxArray, p: SamplingParams, key: MxArray | null): MxArray {
  if (p.temperature <= 0 || !key) return sampleToken(logits, p, key);
  const topK = effectiveTopK(p.topK, logits.shape[logits.ndim - 1]!);
  const f = compiledSamplers.getOrCreate(topK, () => {
    const params: SamplingParams = { temperature: 1, topK };
    return compiled((l: MxArray, k: MxArray, t: MxArray) => sampleToken(l, params, k, t));
  });
  return f(logits, key, temperatureArray(p.temperature));
}

/** Sampling parameters out of range: a stable code for callers to branch on. */
export class SamplingError extends CodedError<'LM_ERR_SAMPLING'> {
  override readonly name = 'SamplingError';
  constructor(message: string) {
    super('LM_ERR_SAMPLING', message);
  }
}

/** Above this a temperature is noise (and Infinity would divide every logit to 0). */
export const MAX_TEMPERATURE = 100;

/** Throws SamplingError unless temperature is in [0, MAX_TEMPERATURE] and topK a non-negative safe integer. */
export function checkSamplingParams(label: string, p: SamplingParams): void {
  if (typeof p.temperature !== 'number' || !(p.temperature >= 0 && p.temperature <= MAX_TEMPERATURE)) {
    throw new SamplingError(`sampling: ${label} temperature must be a number in 0..${MAX_TEMPERATURE} (got ${JSON.stringify(p.temperature)})`);
  }
  if (!Number.isSafeInteger(p.topK) || p.topK < 0) throw new SamplingError(`sampling: ${label} top-k must be a non-negative integer (got ${JSON.stringify(p.topK)})`);
}

/**
 * Text and audio sampling for one session's seeds. The audio streams draw from their own
 * seed when given one (the Moshi protocol's `audio_seed`), else from the session seed, which
 * keeps every earlier session's draws as they were. Holds no state besides its settings.
 */
export class Sampler {
  readonly seed: number;
  readonly audioSeed: number;
  readonly text: SamplingParams;
  readonly audio: SamplingParams;

  constructor(seed: number, text: SamplingParams = DEFAULT_TEXT_SAMPLING, audio: SamplingParams = DEFAULT_AUDIO_SAMPLING, audioSeed: number = seed) {
    checkIndex('seed', seed);
    checkIndex('audio seed', audioSeed);
    checkSamplingParams('text', text);
    checkSamplingParams('audio', audio);
    this.seed = seed;
    this.audioSeed = audioSeed;
    this.text = text;
    this.audio = audio;
  }

  sampleText(logits: MxArray, step: number): MxArray {
    return sampleTokenFast(logits, this.text, this.textKey(step));
  }

  sampleAudio(logits: MxArray, step: number, codebook: number): MxArray {
    return sampleToken(logits, this.audio, drawKey(this.audioSeed, step, audioStream(codebook)));
  }

  /** The key of the text draw at `step`, or null when greedy (no draw). */
  textKey(step: number): MxArray | null {
    return this.text.temperature > 0 ? drawKey(this.seed, step, TEXT_STREAM) : null;
  }

  /** Keys of the dep_q audio draws at `step` (codebook order), or null when greedy. */
  audioKeys(step: number, codebooks: number): MxArray[] | null {
    if (this.audio.temperature <= 0) return null;
    return Array.from({ length: codebooks }, (_, c) => drawKey(this.audioSeed, step, audioStream(c)));
  }
}
