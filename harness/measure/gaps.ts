// What a connection's timing alone says went wrong, derived once for every meter (the
// Moshi proxy meter and the load test's packet meter): late frames, stalls in the server's
// audio, and the silences a real client gives up on.

const round = (x: number): number => Math.round(x * 100) / 100;

export interface Stall {
  readonly atMs: number;
  readonly durationMs: number;
}

export interface ClientTimeout {
  readonly atMs: number;
  readonly silentMs: number;
}

/** Indices of series points whose lag exceeds the session's smallest lag by more than `lateMs`. */
export function lateFrames(lags: readonly number[], lateMs: number): number[] {
  const minLag = lags.reduce((a, b) => Math.min(a, b), Infinity);
  return lags.flatMap((l, j) => (l > minLag + lateMs ? [j] : []));
}

/**
 * Gaps longer than `stallMs` between server audio frames; a session that still owed audio
 * (`missing` > 0) when it ended also stalled from its last audio to its end.
 */
export function stallsOf(audioAt: readonly number[], endMs: number, missing: number, stallMs: number): Stall[] {
  const out: Stall[] = [];
  for (let i = 1; i < audioAt.length; i++) {
    const gap = audioAt[i]! - audioAt[i - 1]!;
    if (gap > stallMs) out.push({ atMs: round(audioAt[i - 1]!), durationMs: round(gap) });
  }
  const last = audioAt[audioAt.length - 1];
  if (last !== undefined && missing > 0 && endMs - last > stallMs) out.push({ atMs: round(last), durationMs: round(endMs - last) });
  return out;
}

/** Each silence of the server (no message at all) from `openMs` on that reached a client's give-up time. */
export function clientTimeoutsOf(openMs: number, messageAt: readonly number[], endMs: number, timeoutMs: number): ClientTimeout[] {
  const out: ClientTimeout[] = [];
  let prev = openMs;
  for (const t of [...messageAt, endMs]) {
    if (t - prev >= timeoutMs) out.push({ atMs: round(prev + timeoutMs), silentMs: round(t - prev) });
    prev = Math.max(prev, t);
  }
  return out;
}
