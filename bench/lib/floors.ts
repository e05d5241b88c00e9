// Physical floors, measured in the same run as the figures they bound: how far each figure
// is from the limit. A model's floor is the weight bytes it reads ÷ the memory bandwidth of
// the suite process (a large copy, read + write traffic, the STREAM "copy" convention); the
// codec's is a copy of the same bytes; the proxy's is the same traffic without the proxy.
import type { BandwidthResult, FigureResult, FloorResult, ShareResult } from './results.ts';
import type { FigureSpec, FloorSpec } from './suite-api.ts';
import { median, quantile } from './stats.ts';

/** 256 MiB: far past any last-level cache, so the copy runs at memory speed. */
export const BANDWIDTH_BYTES = 256 << 20;

export const BANDWIDTH_DESCRIBE = `Buffer.copy of ${BANDWIDTH_BYTES >> 20} MiB (memcpy, one thread), GB/s of memory traffic (read + write); the fastest run of the suite: 2 at setup and one before every round`;

/** Times one large copy per call; GB/s of traffic (2 × bytes per copy). Allocates only when used. */
export class BandwidthMeter {
  private readonly src = Buffer.alloc(BANDWIDTH_BYTES, 3);
  private readonly dst = Buffer.alloc(BANDWIDTH_BYTES);

  constructor() {
    this.src.copy(this.dst); // page in both buffers before the first timed copy
  }

  measure(): number {
    const t0 = performance.now();
    this.src.copy(this.dst);
    const ms = performance.now() - t0;
    return (2 * BANDWIDTH_BYTES) / (ms / 1000) / 1e9;
  }
}

export function buildBandwidth(setup: readonly number[], rounds: readonly number[]): BandwidthResult {
  return { describe: BANDWIDTH_DESCRIBE, bytes: BANDWIDTH_BYTES, gbps: Math.max(...setup, ...rounds), rounds };
}

/** ms to move `bytes` of memory traffic at `gbps`. */
export function weightsFloorMs(bytes: number, gbps: number): number {
  return (bytes / (gbps * 1e9)) * 1000;
}

/**
 * The floor of one figure: `weights` from the run's bandwidth, `memcpy`/`direct` from the
 * median of the floor samples the suite timed in the same rounds (per call, ms).
 */
export function buildFloor(spec: FloorSpec, p50: number, run: { bandwidth?: BandwidthResult; samples?: readonly number[] }): FloorResult {
  let ms: number;
  let p99: number | undefined;
  if (spec.kind === 'weights') {
    if (!run.bandwidth) throw new RangeError(`a weights floor needs the run's bandwidth (${spec.describe})`);
    ms = weightsFloorMs(spec.bytes, run.bandwidth.gbps);
  } else {
    if (!run.samples?.length) throw new RangeError(`floor samples "${spec.sample}" missing (${spec.describe})`);
    ms = median(run.samples);
    p99 = quantile(run.samples, 0.99);
  }
  if (!(ms > 0)) throw new RangeError(`floor of ${spec.describe} is ${ms} ms: must be positive`);
  return { kind: spec.kind, describe: spec.describe, bytes: spec.bytes, ms, ratio: p50 / ms, ...(p99 === undefined ? {} : { p99 }) };
}

/** `figure`'s p50 as a share of the figure named `share.of`. */
export function buildShare(spec: NonNullable<FigureSpec['share']>, figure: FigureResult, figures: readonly FigureResult[]): ShareResult {
  const of = figures.find((f) => f.name === spec.of);
  if (!of) throw new RangeError(`${figure.id}: share of "${spec.of}", which the suite has no figure of`);
  const pct = (100 * figure.p50) / of.p50;
  return { of: spec.of, ofMs: of.p50, pct, targetPct: spec.targetPct, ok: pct <= spec.targetPct };
}
