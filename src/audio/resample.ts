// Whole-signal sample-rate conversion (any integer rate → any integer rate, 24 kHz for Mimi)
// and channel downmixing. Pure and deterministic: same input, same bytes out.
//
// Method: exact rational polyphase resampling with a Kaiser-windowed sinc. The ratio is
// reduced to up/down = to/from by their gcd, so output sample k sits exactly at input
// position k·down/up = i + p/up and only `up` distinct filter phases exist (44.1 k → 24 k:
// 80/147, 48 k → 24 k: 1/2); each phase's taps are computed once, lazily, and normalised to
// unit DC gain so no phase-dependent gain ripple is left. The filter is symmetric and
// centred, so there is no delay: output time k/to lines up with input time.
//
// Specification (both directions): passband flat to 0.9 × the lower Nyquist frequency,
// stopband from that Nyquist on, attenuated by ≥ ~100 dB (Kaiser's design formula). For
// downsampling that removes everything that would alias; for upsampling it removes the images.
// Edges are zero-padded (a signal is assumed silent outside itself).
//
// Determinism: the taps use Math.sin and Math.sqrt; V8 computes sin with its bundled fdlibm
// port on every platform, so results are identical across machines under Node. Another JS
// engine could differ in the last bit of a tap.

import { AudioError } from './errors.ts';
import { SAMPLE_RATE } from './frames.ts';

const STOPBAND_DB = 100;
/** Passband edge as a fraction of the lower Nyquist; the stopband starts at that Nyquist. */
const PASSBAND = 0.9;
/** Rates outside this range are almost certainly a corrupt header; they would also need huge filters. */
export const MIN_RATE = 1000;
export const MAX_RATE = 384000;

export interface ResamplerSpec {
  readonly fromRate: number;
  readonly toRate: number;
  /** Reduced ratio: `up` output samples per `down` input samples. */
  readonly up: number;
  readonly down: number;
  /** Filter taps applied per output sample. */
  readonly taps: number;
  readonly passbandHz: number;
  readonly stopbandHz: number;
  readonly stopbandDb: number;
}

interface Plan extends ResamplerSpec {
  /** Taps each side of the centre. */
  readonly half: number;
  /** Window half-width in input samples (taps beyond it are zero). */
  readonly width: number;
  /** Cutoff (−6 dB point) in cycles per input sample. */
  readonly fc: number;
  readonly beta: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkRate(rate: number, what: string): void {
  if (!Number.isInteger(rate) || rate < MIN_RATE || rate > MAX_RATE) {
    throw new AudioError('AUDIO_ERR_SAMPLE_RATE', `${what} sample rate ${rate} Hz is not an integer between ${MIN_RATE} and ${MAX_RATE}`);
  }
}

function plan(fromRate: number, toRate: number): Plan {
  checkRate(fromRate, 'input');
  checkRate(toRate, 'output');
  const g = gcd(fromRate, toRate);
  const nyquist = Math.min(fromRate, toRate) / 2;
  const passbandHz = PASSBAND * nyquist;
  const transition = nyquist - passbandHz;
  // Kaiser: length ≈ (A − 7.95) / (2.285 Δω) samples for attenuation A and transition Δω.
  const length = (STOPBAND_DB - 7.95) / (2.285 * 2 * Math.PI * (transition / fromRate));
  const width = length / 2;
  const half = Math.ceil(width);
  return {
    fromRate, toRate, up: toRate / g, down: fromRate / g, taps: 2 * half + 1,
    passbandHz, stopbandHz: nyquist, stopbandDb: STOPBAND_DB,
    half, width, fc: (passbandHz + nyquist) / 2 / fromRate, beta: 0.1102 * (STOPBAND_DB - 8.7),
  };
}

/** What resample() would do for these rates (for logs and CLI output). */
export function resamplerSpec(fromRate: number, toRate: number = SAMPLE_RATE): ResamplerSpec {
  const { half: _h, width: _w, fc: _f, beta: _b, ...spec } = plan(fromRate, toRate);
  return spec;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for x ≲ 30). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/** Taps for fractional position p/up, unit DC gain; index t multiplies input[i − half + t]. */
function phaseTaps(pl: Plan, p: number): Float64Array {
  const frac = p / pl.up;
  const taps = new Float64Array(pl.taps);
  const i0beta = besselI0(pl.beta);
  let sum = 0;
  for (let t = 0; t < pl.taps; t++) {
    const x = frac - (t - pl.half); // distance from the output position to that input sample
    const r = x / pl.width;
    if (r <= -1 || r >= 1) continue;
    const arg = Math.PI * 2 * pl.fc * x;
    const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
    const h = sinc * (besselI0(pl.beta * Math.sqrt(1 - r * r)) / i0beta);
    taps[t] = h;
    sum += h;
  }
  for (let t = 0; t < pl.taps; t++) taps[t]! /= sum;
  return taps;
}

function checkFinite(input: Float32Array, what: string): void {
  for (let i = 0; i < input.length; i++) {
    const x = input[i]!;
    if (x - x !== 0) throw new AudioError('AUDIO_ERR_NON_FINITE', `${what} sample ${i} is ${x}`, { index: i });
  }
}

/** Output length: every k with k/to < n/from, i.e. ceil(n·up/down), in exact integer steps. */
function outputLength(n: number, up: number, down: number): number {
  let q = Math.floor((n * up) / down);
  while (q * down < n * up) q++;
  while (q > 0 && (q - 1) * down >= n * up) q--;
  return q;
}

// Filter phases are kept for the few most recent rate pairs (a CLI converting many files, or
// a caller resampling chunk by chunk, would otherwise recompute them on every call). Only
// plans with at most MAX_CACHED_PHASES phases are kept: every common rate has ≤ 320 (11025 Hz),
// while a rate coprime with 24000 has 24000 phases, ~50 MB, which is built per call instead.
const MAX_CACHED_PLANS = 8;
const MAX_CACHED_PHASES = 1024;
const plans = new Map<string, { plan: Plan; phases: (Float64Array | undefined)[] }>();

function cachedPlan(fromRate: number, toRate: number): { plan: Plan; phases: (Float64Array | undefined)[] } {
  const key = `${fromRate}:${toRate}`;
  const hit = plans.get(key);
  if (hit) {
    plans.delete(key); // re-insert: Map order is recency order
    plans.set(key, hit);
    return hit;
  }
  const pl = plan(fromRate, toRate);
  const entry = { plan: pl, phases: new Array<Float64Array | undefined>(pl.up) };
  if (pl.up <= MAX_CACHED_PHASES) {
    plans.set(key, entry);
    if (plans.size > MAX_CACHED_PLANS) plans.delete(plans.keys().next().value!);
  }
  return entry;
}

function dot(taps: Float64Array, input: Float32Array, j0: number, lo: number, hi: number): number {
  let acc = 0;
  for (let t = lo; t < hi; t++) acc += taps[t]! * input[j0 + t]!;
  return acc;
}

/** Resamples one channel. Returns a new array even when the rates are equal. */
export function resample(input: Float32Array, fromRate: number, toRate: number = SAMPLE_RATE): Float32Array {
  if (!(input instanceof Float32Array)) throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', 'resample needs a Float32Array');
  const { plan: pl, phases } = cachedPlan(fromRate, toRate);
  checkFinite(input, 'input');
  if (fromRate === toRate) return input.slice();
  const n = input.length;
  const out = new Float32Array(outputLength(n, pl.up, pl.down));
  const span = pl.taps;
  let i = 0; // input index at or just before the output position
  let p = 0; // phase: the position's fractional part × up
  for (let k = 0; k < out.length; k++) {
    const taps = phases[p] ?? (phases[p] = phaseTaps(pl, p));
    const j0 = i - pl.half;
    // Taps that fall before or after the signal meet zeros (the edge padding), so skip them.
    out[k] = dot(taps, input, j0, Math.max(0, -j0), Math.min(span, n - j0));
    p += pl.down;
    if (p >= pl.up) {
      const whole = Math.floor(p / pl.up);
      i += whole;
      p -= whole * pl.up;
    }
  }
  return out;
}

/** Averages channels into one (a new array, also for a single channel). */
export function toMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) throw new AudioError('AUDIO_ERR_CHANNELS', 'no channels to downmix');
  const n = channels[0]!.length;
  channels.forEach((ch, c) => {
    if (!(ch instanceof Float32Array)) throw new AudioError('AUDIO_ERR_CHANNELS', `channel ${c} is not a Float32Array`, { channel: c });
    if (ch.length !== n) throw new AudioError('AUDIO_ERR_CHANNELS', `channel ${c} has ${ch.length} samples but channel 0 has ${n}`, { channel: c });
  });
  if (channels.length === 1) return channels[0]!.slice();
  const out = new Float32Array(n);
  const count = channels.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < count; c++) s += channels[c]![i]!;
    out[i] = s / count;
  }
  return out;
}

export interface Mono24k {
  readonly samples: Float32Array;
  readonly sampleRate: typeof SAMPLE_RATE;
  readonly fromRate: number;
  readonly fromChannels: number;
  readonly resampled: boolean;
  readonly downmixed: boolean;
  /** One line for a CLI, e.g. "resampled 44100 → 24000 Hz, downmixed 2 → 1 channels". */
  readonly summary: string;
}

/** Brings decoded audio to what Mimi takes: mono (channel average), then 24 kHz. */
export function toMono24k(channels: readonly Float32Array[], sampleRate: number): Mono24k {
  const mono = toMono(channels);
  const resampled = sampleRate !== SAMPLE_RATE;
  const samples = resampled ? resample(mono, sampleRate, SAMPLE_RATE) : (checkFinite(mono, 'input'), mono);
  const downmixed = channels.length > 1;
  const parts: string[] = [];
  if (resampled) parts.push(`resampled ${sampleRate} → ${SAMPLE_RATE} Hz`);
  if (downmixed) parts.push(`downmixed ${channels.length} → 1 channels`);
  const summary = parts.length > 0 ? parts.join(', ') : `already ${SAMPLE_RATE} Hz mono`;
  return { samples, sampleRate: SAMPLE_RATE, fromRate: sampleRate, fromChannels: channels.length, resampled, downmixed, summary };
}

/**
 * Chunk-by-chunk resampling of a live stream (the browser's microphone, whose rate the page
 * does not choose), with the same filter as resample(): concatenating its outputs gives,
 * bit for bit, the first samples of resample() over the concatenated input. An output
 * sample is produced once every input it weighs has arrived, i.e. `half` input samples late
 * (2.7 ms at 48 kHz). Memory is bounded: only the window the filter still needs is kept.
 */
export class StreamResampler {
  readonly spec: ResamplerSpec;
  private readonly pl: Plan;
  private readonly phases: (Float64Array | undefined)[];
  /** Input not yet consumed by the window; index 0 is input sample `offset`. */
  private buf: Float32Array;
  private fill = 0;
  private offset = 0;
  /** Next output: input index i (≥ its window start once i − half ≥ offset), phase p. */
  private i = 0;
  private p = 0;

  constructor(fromRate: number, toRate: number = SAMPLE_RATE) {
    const { plan: pl, phases } = cachedPlan(fromRate, toRate);
    this.pl = pl;
    this.phases = phases;
    this.spec = resamplerSpec(fromRate, toRate);
    // Zeros before the first sample: the edge padding resample() assumes.
    this.buf = new Float32Array(Math.max(4096, 4 * pl.taps));
    this.fill = pl.half;
    this.offset = -pl.half;
  }

  /** Takes the next input chunk; returns every output sample that is now complete (maybe none). */
  push(chunk: Float32Array): Float32Array {
    if (!(chunk instanceof Float32Array)) throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', 'StreamResampler.push needs a Float32Array');
    checkFinite(chunk, 'input');
    this.append(chunk);
    const { pl } = this;
    const out: number[] = [];
    const end = this.offset + this.fill; // one past the last input received
    // Output at input position i + p/up needs inputs i − half … i + half.
    while (this.i + pl.half < end) {
      const taps = this.phases[this.p] ?? (this.phases[this.p] = phaseTaps(pl, this.p));
      const j0 = this.i - pl.half - this.offset;
      // Same sum as resample(): the zeros of the edge padding add nothing to it.
      out.push(dot(taps, this.buf, j0, 0, pl.taps));
      this.p += pl.down;
      if (this.p >= pl.up) {
        const whole = Math.floor(this.p / pl.up);
        this.i += whole;
        this.p -= whole * pl.up;
      }
    }
    this.trim();
    return Float32Array.from(out);
  }

  private append(chunk: Float32Array): void {
    if (this.fill + chunk.length > this.buf.length) {
      const grown = new Float32Array(Math.max(2 * this.buf.length, this.fill + chunk.length));
      grown.set(this.buf.subarray(0, this.fill));
      this.buf = grown;
    }
    this.buf.set(chunk, this.fill);
    this.fill += chunk.length;
  }

  /** Drops input that no later output can reach (before the next window's start). */
  private trim(): void {
    const keepFrom = this.i - this.pl.half - this.offset;
    if (keepFrom <= 0) return;
    this.buf.copyWithin(0, keepFrom, this.fill);
    this.fill -= keepFrom;
    this.offset += keepFrom;
  }
}
