// Turn-taking from two speech-segment lists on one time line (user = what the client sent,
// model = what the server sent back, as played): the figures conversation benchmarks report.
import type { Segment } from './vad.ts';

export interface BargeIn {
  /** The user's onset while the model was speaking, ms. */
  readonly atMs: number;
  /** Onset → end of the model's segment (it yielded), ms. */
  readonly yieldMs: number;
  /** The model stopped before the user did (it let the user take the turn). */
  readonly yielded: boolean;
}

export interface TurnFigures {
  readonly userSegments: number;
  readonly modelSegments: number;
  /** For each user turn the model answered: model onset − user offset, ms (negative: it started before the user stopped). */
  readonly responseGapsMs: number[];
  /** Pairs of user/model segments that overlap, and their summed overlap. */
  readonly overlaps: { readonly count: number; readonly totalMs: number };
  readonly bargeIns: BargeIn[];
}

export function turnTaking(user: readonly Segment[], model: readonly Segment[]): TurnFigures {
  const responseGapsMs: number[] = [];
  for (const [i, u] of user.entries()) {
    const nextUser = user[i + 1]?.startMs ?? Infinity;
    // The model's reply to this turn: its first onset after the user began and before the user's next turn.
    const m = model.find((s) => s.startMs > u.startMs && s.startMs < nextUser);
    if (m) responseGapsMs.push(m.startMs - u.endMs);
  }
  let count = 0;
  let totalMs = 0;
  for (const u of user) {
    for (const m of model) {
      const o = Math.min(u.endMs, m.endMs) - Math.max(u.startMs, m.startMs);
      if (o > 0) {
        count++;
        totalMs += o;
      }
    }
  }
  const bargeIns: BargeIn[] = [];
  for (const u of user) {
    const m = model.find((s) => s.startMs < u.startMs && u.startMs < s.endMs);
    if (m) bargeIns.push({ atMs: u.startMs, yieldMs: m.endMs - u.startMs, yielded: m.endMs < u.endMs });
  }
  return { userSegments: user.length, modelSegments: model.length, responseGapsMs, overlaps: { count, totalMs }, bargeIns };
}
