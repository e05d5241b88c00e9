// Replay verdicts and diff results kept apart. SESSION/replays/ holds both (a replay of this
// session, and `sessions diff A B` saved into A), but only a replay says whether this session
// reproduces; a diff says how it compares with another one, under that pair's expectation.
// Browser-safe and pure: the view server (list, API) and the viewer (dropped folders) use it.
import type { ReplayResult } from './replay-result.ts';

/** Larger than any saved result (a comparison holds a few context rows): a bigger file is not one. */
export const MAX_RESULT_BYTES = 1024 * 1024;
/** Newest files tried per kind before giving up: a folder of junk costs a bounded number of reads. */
export const MAX_RESULT_TRIES = 32;

/** Kinds that replay this session through an engine (offline or paced). */
export const isReplayKind = (kind: unknown): boolean => kind === 'replay' || kind === 'paced';

/** A saved result worth showing: the fields every view reads are there. */
export function isResult(v: unknown): v is ReplayResult {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<Record<keyof ReplayResult, unknown>>;
  return (isReplayKind(r.kind) || r.kind === 'diff') && typeof r.verdict === 'string' && typeof r.at === 'string'
    && typeof r.ok === 'boolean' && typeof r.comparison === 'object' && r.comparison !== null && Array.isArray(r.labels);
}

export interface LatestResults {
  /** The newest replay (offline or paced) of this session. */
  readonly replay: ReplayResult | null;
  /** The newest diff of this session against another one. */
  readonly diff: ReplayResult | null;
}

/** The newest of each kind among results listed oldest first (anything that is not a result is skipped). */
export function newestResults(oldestFirst: readonly unknown[]): LatestResults {
  let replay: ReplayResult | null = null, diff: ReplayResult | null = null;
  for (let i = oldestFirst.length - 1; i >= 0 && (replay === null || diff === null); i--) {
    const r = oldestFirst[i];
    if (!isResult(r)) continue;
    if (r.kind === 'diff') diff ??= r;
    else replay ??= r;
  }
  return { replay, diff };
}

/** How a result stands against what was expected of it. */
export type Outcome = 'met' | 'not met' | 'divergence expected';

export interface ResultSummary {
  readonly kind: ReplayResult['kind'];
  readonly verdict: string;
  readonly at: string;
  readonly outcome: Outcome;
  /** The other side: "recorded" replayed; for a diff, the other session's name. */
  readonly against: string;
  /** One line saying what was compared and what was expected. */
  readonly expectation: string;
  /** Diff only: what the two sessions were recorded with differently, in short ("seed", "seed, sampling"), or null. */
  readonly recordedDifferently: string | null;
}

/** What a list row or a panel heading says about one saved result. */
export function summarizeResult(r: ReplayResult): ResultSummary {
  const against = r.labels[1] ?? '?';
  const setup = r.setupDiffs ?? [];
  if (r.kind === 'diff') {
    if (setup.length > 0) {
      // "seed: 42 vs 7" → "seed"; "weights lm: … vs …" → "weights lm".
      const what = [...new Set(setup.map((d) => d.replace(/:.*$/s, '')))].join(', ');
      return { kind: r.kind, verdict: r.verdict, at: r.at, outcome: 'divergence expected', against, recordedDifferently: what, expectation: `compared with ${against}, recorded differently (${setup.join('; ')}): a divergence is expected` };
    }
    return { kind: r.kind, verdict: r.verdict, at: r.at, outcome: r.ok ? 'met' : 'not met', against, recordedDifferently: null, expectation: `compared with ${against}; expected ${r.expected} (${r.ok ? 'met' : 'NOT met'})` };
  }
  const how = r.kind === 'paced' ? 'paced replay over a WebSocket' : 'replay through the engine';
  const why = r.fingerprintDiffs.length > 0 ? 'platform differs from the recording' : 'platform matches the recording';
  return { kind: r.kind, verdict: r.verdict, at: r.at, outcome: r.ok ? 'met' : 'not met', against, recordedDifferently: null, expectation: `${how}; expected ${r.expected} (${why}): ${r.ok ? 'met' : 'NOT met'}` };
}
