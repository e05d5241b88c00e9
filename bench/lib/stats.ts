// Statistics for the bench gate: summaries, the coefficient of variation, and Welch's
// t-test (unequal variances) with the Student t distribution computed here from the
// regularized incomplete beta function, so the gate needs no numeric dependency.

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

/** Sample variance (n − 1 denominator). */
export function variance(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) s += (xs[i]! - m) ** 2;
  return s / (n - 1);
}

/** Coefficient of variation in percent: sample standard deviation over the mean. */
export function cvPct(xs: ArrayLike<number>): number {
  return (Math.sqrt(variance(xs)) / mean(xs)) * 100;
}

/** Nearest-rank quantile of unsorted samples (q in [0, 1]), as src/telemetry's percentile. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const rank = Math.ceil(q * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export function median(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Relative margin of error of the mean at ~95 % (t ≈ 1.96 · sd/√n / mean), percent. */
export function rmePct(xs: ArrayLike<number>): number {
  return ((1.96 * Math.sqrt(variance(xs) / xs.length)) / mean(xs)) * 100;
}

/**
 * ln Γ(x) for x > 0: Stirling's series at x ≥ 10 (error ~2e-14 there), shifted up by the
 * recurrence Γ(x + 1) = x Γ(x) below that.
 */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma: x must be positive (got ${x})`);
  let shift = 0;
  while (x < 10) {
    shift += Math.log(x);
    x += 1;
  }
  const x2 = x * x;
  const series = 1 / (12 * x) - 1 / (360 * x * x2) + 1 / (1260 * x * x2 * x2) - 1 / (1680 * x * x2 * x2 * x2) + 1 / (1188 * x * x2 * x2 * x2 * x2);
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    // Even step.
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // Odd step.
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Two-sided p-value of Student's t with df degrees of freedom: P(|T| ≥ |t|). */
export function studentTTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

export interface WelchResult {
  /** mean(b) − mean(a) over its standard error. */
  readonly t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
  /** Two-sided p-value. */
  readonly p: number;
}

/** Welch's unequal-variances t-test of mean(b) against mean(a). Needs ≥ 2 samples each. */
export function welch(a: ArrayLike<number>, b: ArrayLike<number>): WelchResult {
  if (a.length < 2 || b.length < 2) throw new RangeError(`welch: needs at least 2 samples on each side (got ${a.length} and ${b.length})`);
  const va = variance(a) / a.length;
  const vb = variance(b) / b.length;
  const diff = mean(b) - mean(a);
  const se2 = va + vb;
  if (se2 === 0) {
    // Both constant: equal means are no evidence of change; different ones are certain.
    return diff === 0 ? { t: 0, df: a.length + b.length - 2, p: 1 } : { t: diff > 0 ? Infinity : -Infinity, df: a.length + b.length - 2, p: 0 };
  }
  const t = diff / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { t, df, p: studentTTwoSided(t, df) };
}

/** Student t CDF P(T ≤ t) with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = incompleteBeta(df / (df + t * t), df / 2, 0.5) / 2;
  return t >= 0 ? 1 - tail : tail;
}

/** The q-quantile of Student's t (0 < q < 1), by bisection on the CDF (monotone, so exact to ~1e-12). */
const quantiles = new Map<string, number>();

export function studentTQuantile(q: number, df: number): number {
  // The gate asks for the same few (q, df) over and over (resampling asks thousands of times).
  const key = `${q} ${df}`;
  let v = quantiles.get(key);
  if (v === undefined) {
    v = tQuantile(q, df);
    if (quantiles.size < 10_000) quantiles.set(key, v);
  }
  return v;
}

function tQuantile(q: number, df: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError(`studentTQuantile: q must be in (0, 1) (got ${q})`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be positive (got ${df})`);
  if (q < 0.5) return -tQuantile(1 - q, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < q) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface PairedResult {
  readonly n: number;
  /** Mean of the differences. */
  readonly mean: number;
  /** Sample standard deviation of the differences. */
  readonly sd: number;
  readonly t: number;
  readonly df: number;
  /** Two-sided p-value of mean = 0. */
  readonly p: number;
  /** Two-sided confidence interval of the mean difference at `level`. */
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
}

/**
 * Paired t-test on differences d_i = b_i − a_i (one per round): t = mean / (sd / √n), n − 1
 * degrees of freedom, and the mean's confidence interval mean ± t_{(1+level)/2, n−1} · sd/√n.
 */
export function pairedT(diffs: ArrayLike<number>, level = 0.99): PairedResult {
  const n = diffs.length;
  if (n < 2) throw new RangeError(`pairedT: needs at least 2 pairs (got ${n})`);
  if (!(level > 0 && level < 1)) throw new RangeError(`pairedT: level must be in (0, 1) (got ${level})`);
  const m = mean(diffs);
  const sd = Math.sqrt(variance(diffs));
  const df = n - 1;
  if (sd === 0) {
    // Every pair moved by the same amount: certain, unless that amount is nothing.
    return { n, mean: m, sd, t: m === 0 ? 0 : m > 0 ? Infinity : -Infinity, df, p: m === 0 ? 1 : 0, lo: m, hi: m, level };
  }
  const se = sd / Math.sqrt(n);
  const t = m / se;
  const half = studentTQuantile((1 + level) / 2, df) * se;
  return { n, mean: m, sd, t, df, p: studentTTwoSided(t, df), lo: m - half, hi: m + half, level };
}

/**
 * Paired comparison of two sides measured round by round: the test runs on ln(b_i / a_i), so
 * a change is a factor (symmetric: 2× slower and 2× faster are ±ln 2) and load that scales
 * both sides of a round cancels. The mean log ratio back-transformed is the ratio of the
 * geometric means; changes and bounds are returned as fractions (0.05 = 5 % slower).
 */
export function pairedLogRatio(a: ArrayLike<number>, b: ArrayLike<number>, level = 0.99): PairedResult & { readonly change: number; readonly changeLo: number; readonly changeHi: number } {
  const r = pairedT(logRatios(a, b, 'pairedLogRatio'), level);
  return { ...r, change: Math.expm1(r.mean), changeLo: Math.expm1(r.lo), changeHi: Math.expm1(r.hi) };
}

export interface BlockedResult extends PairedResult {
  /** Number of blocks (the test's unit; df = blocks − 1). */
  readonly blocks: number;
  /** Rounds in all. */
  readonly rounds: number;
  /** Pooled within-block standard deviation of the per-round differences (√MSW). */
  readonly sdWithin: number;
  /**
   * Between-block standard deviation component τ (one-way random effects, method of
   * moments: τ² = max(0, (MSB − MSW) / k̄)): the part of a block's mean that all its rounds share.
   */
  readonly sdBetween: number;
}

/**
 * Paired test with blocks as the unit: differences d_i grouped into consecutive blocks of
 * the given sizes (rounds sharing one pair of processes), each block reduced to its mean, and
 * pairedT over those means (blocks − 1 df). Rounds within a block share what their processes
 * drew (heap layout, addresses, core), so they are not independent; the block means are. For
 * equal block sizes this is the exact test of the grand mean under a one-way random effects
 * model. Also returns the variance components, so a reader can see how much the blocks share.
 */
export function blockedT(diffs: ArrayLike<number>, blockSizes: readonly number[], level = 0.99): BlockedResult {
  const total = blockSizes.reduce((s, k) => s + k, 0);
  if (total !== diffs.length) throw new RangeError(`blockedT: the block sizes add up to ${total}, but there are ${diffs.length} differences`);
  if (blockSizes.some((k) => !(Number.isInteger(k) && k >= 1))) throw new RangeError(`blockedT: block sizes must be positive integers (got ${blockSizes.join(', ')})`);
  if (blockSizes.length < 2) throw new RangeError(`blockedT: needs at least 2 blocks (got ${blockSizes.length})`);
  const means: number[] = [];
  let ssw = 0;
  let at = 0;
  for (const k of blockSizes) {
    const block = Array.prototype.slice.call(diffs, at, at + k) as number[];
    const m = mean(block);
    means.push(m);
    for (const x of block) ssw += (x - m) ** 2;
    at += k;
  }
  const r = pairedT(means, level);
  const j = blockSizes.length;
  const msw = total > j ? ssw / (total - j) : 0;
  // Unbalanced blocks: the effective block size of the method-of-moments estimator.
  const k0 = (total - blockSizes.reduce((s, k) => s + k * k, 0) / total) / (j - 1);
  const grand = mean(diffs);
  let ssb = 0;
  for (let b = 0; b < j; b++) ssb += blockSizes[b]! * (means[b]! - grand) ** 2;
  const msb = ssb / (j - 1);
  return { ...r, blocks: j, rounds: total, sdWithin: Math.sqrt(msw), sdBetween: Math.sqrt(Math.max(0, (msb - msw) / k0)) };
}

/** blockedT on ln(b_i / a_i), with the change and its bounds back-transformed (fractions), as pairedLogRatio. */
export function blockedLogRatio(a: ArrayLike<number>, b: ArrayLike<number>, blockSizes: readonly number[], level = 0.99): BlockedResult & { readonly change: number; readonly changeLo: number; readonly changeHi: number } {
  const r = blockedT(logRatios(a, b, 'blockedLogRatio'), blockSizes, level);
  return { ...r, change: Math.expm1(r.mean), changeLo: Math.expm1(r.lo), changeHi: Math.expm1(r.hi) };
}

/** ln(b_i / a_i) per round, refusing unequal lengths and non-positive values. */
export function logRatios(a: ArrayLike<number>, b: ArrayLike<number>, who = 'logRatios'): number[] {
  if (a.length !== b.length) throw new RangeError(`${who}: ${a.length} values on one side, ${b.length} on the other`);
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (!(a[i]! > 0 && b[i]! > 0)) throw new RangeError(`${who}: round ${i} has a non-positive value (${a[i]}, ${b[i]})`);
    d.push(Math.log(b[i]! / a[i]!));
  }
  return d;
}
