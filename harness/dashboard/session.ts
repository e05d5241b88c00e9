// `solacelive dash SESSION`: a recorded session folder instead of a live server. A session
// measured from outside the server (proxied, load test) is finished and has no telemetry
// stream, so its dashboard is a static report: a `dash-session key=value …` summary line of
// its lag, growth, stalls and close (parseSummary reads it back), one line per stall,
// client-timeout silence and the close, the lag over the session as a sparkline, and where
// to see the rest (the viewer). A session SolaceLive's engine recorded is pointed to
// `replay --dashboard` and the viewer, which show what it has (step spans, the verdict).
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CodedError } from '../../src/errors.ts';
import { MANIFEST_FILE, PROXY_FILE } from '../format/index.ts';
import { openSession } from '../format/node.ts';
import { endText, growthText, lagMarks, lagPoints, measuredSession, parseProxyFile } from '../view/proxied.ts';
import { sparkline } from './format.ts';
import { summaryLine } from './plain.ts';

export class DashSessionError extends CodedError<'DASH_ERR_NOT_A_SESSION' | 'DASH_ERR_ENGINE_SESSION' | 'DASH_ERR_FIGURES'> {
  override readonly name = 'DashSessionError';
}

/** Whether `arg` names a folder on disk (then dash reads it as a session, not a server). */
export async function isFolder(arg: string): Promise<boolean> {
  return (await stat(arg).catch(() => null))?.isDirectory() ?? false;
}

/** The session's lag, one character per column: each the largest lag of the replies it covers. */
export function lagSparkline(lags: readonly number[], width: number): string {
  if (lags.length === 0) return '';
  const cols = Math.min(width, lags.length);
  const peaks = Array.from({ length: cols }, (_, c) => {
    let m = -Infinity;
    for (let i = Math.floor((c * lags.length) / cols); i < Math.floor(((c + 1) * lags.length) / cols); i++) m = Math.max(m, lags[i]!);
    return m;
  });
  return sparkline(peaks, 0, cols).text;
}

/** The report lines of a proxied or load-test session; throws DashSessionError for anything else. */
export async function sessionReport(dir: string, width = 60): Promise<string[]> {
  if (!(await stat(join(dir, MANIFEST_FILE)).catch(() => null))) {
    throw new DashSessionError('DASH_ERR_NOT_A_SESSION', `${dir} is a folder but not a session (no ${MANIFEST_FILE}); give a server URL or a recorded session folder`);
  }
  const reader = await openSession(dir, { allowMissing: true, salvage: true });
  const m = measuredSession(reader.manifest);
  const viewHint = `\`solacelive view ${dirname(dir)}\` (then open ${basename(dir)})`;
  if (m === null) {
    throw new DashSessionError('DASH_ERR_ENGINE_SESSION', `${dir} was recorded by SolaceLive's engine: \`solacelive replay ${dir} --dashboard\` replays it with progress, and ${viewHint} shows its steps against the budget`);
  }
  let text: string;
  try {
    text = await readFile(join(dir, PROXY_FILE), 'utf8');
  } catch (err) {
    throw new DashSessionError('DASH_ERR_FIGURES', `${dir} is a ${m.kind} session of ${m.upstream} but its ${PROXY_FILE} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): its lag and stalls are not there; ${viewHint} shows its audio and messages`);
  }
  let f;
  try {
    f = parseProxyFile(text).figures;
  } catch (err) {
    throw new DashSessionError('DASH_ERR_FIGURES', `${dir}: ${(err as Error).message}`);
  }
  // counts.steps is written at close; a session whose recorder died has zeros there.
  const frames = reader.manifest.counts.steps || Math.max(0, ...lagPoints(f).map((p) => p.line + 1));
  const marks = lagMarks(f, frames);
  const lines = [summaryLine('dash-session', [
    ['session', basename(dir)], ['kind', m.kind], ['upstream', m.upstream], ['duration_s', f.durationMs / 1000],
    ['replies', f.lag.count], ['lag_p50_ms', f.lag.p50], ['lag_p95_ms', f.lag.p95], ['lag_p99_ms', f.lag.p99], ['lag_max_ms', f.lag.max],
    ['growth_ms_per_min', f.lag.slopeMsPerMin], ['late', f.late.count], ['missing', f.missing.count],
    ['stalls', f.stalls.count], ['stall_ms', f.stalls.totalMs], ['client_timeouts', f.clientTimeouts.count],
    ['closed_by', f.end?.by ?? null], ['close_code', f.end?.code ?? null],
  ])];
  for (const s of marks.stalls) lines.push(summaryLine('stall', [['at_ms', s.atMs], ['duration_ms', s.durationMs], ['frame', Math.floor((s.fromLine + s.toLine) / 2)]]));
  for (const t of marks.timeouts) lines.push(summaryLine('client-timeout', [['at_ms', t.atMs], ['silent_ms', t.silentMs], ['threshold_ms', f.clientTimeouts.thresholdMs], ['frame', Math.floor(t.line)]]));
  if (marks.end) lines.push(summaryLine('close', [['at_ms', marks.end.atMs], ['by', marks.end.by], ['code', marks.end.code], ['reason', marks.end.reason || null]]));
  lines.push('');
  lines.push(`${m.kind === 'proxied' ? 'Proxied' : 'Load-test'} session of ${m.upstream}: measured from outside the server (no engine steps, no 80 ms budget verdict).`);
  lines.push(`lag over the session  ${lagSparkline(f.lag.series.map(([, lag]) => lag), width)}  p50 ${f.lag.p50 ?? '–'} ms · p99 ${f.lag.p99 ?? '–'} ms · growth ${growthText(f.lag)}`);
  lines.push(`stalls ${f.stalls.count} (> ${f.stalls.thresholdMs} ms) · client-timeout silences ${f.clientTimeouts.count} (>= ${f.clientTimeouts.thresholdMs} ms) · ${endText(f.end)}`);
  lines.push(`The lag lane, both waveforms, the text and the messages: ${viewHint}`);
  return lines;
}
