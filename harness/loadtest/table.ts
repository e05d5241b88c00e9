// The load test's console output: one row per client, the level's pooled figures and its
// verdict, and one line per level of a capacity search.
import type { ClientReport } from './client.ts';
import type { LevelResult } from './level.ts';
import { serverLine } from './server-health.ts';

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(Math.round(v)));
const slope = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}`);

function grid(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => (c <= 2 || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  });
}

function endOf(r: ClientReport): string {
  if (r.status !== 'done') return `${r.status}: ${r.error!.code}`;
  const e = r.figures!.end;
  const how = e ? `closed by ${e.by} ${e.code}` : 'not closed';
  return r.disconnected ? `DISCONNECTED, ${how}${e?.reason ? ` (${e.reason.slice(0, 60)})` : ''}` : how;
}

/** Per-client table (ms unless said). */
export function clientTable(reports: readonly ClientReport[]): string[] {
  const rows = [['client', 'input', 'status', 'handshake', 'first audio', 'lag p50', 'p95', 'p99', 'max', 'growth ms/min', 'stalls', 'timeouts', 'missing', 'frames sent/back', 'end']];
  for (const r of reports) {
    const f = r.figures;
    const ok = r.status === 'done' && f;
    rows.push([
      String(r.index + 1), r.input, r.status, ms(f?.handshakeMs), ms(f?.firstAudioMs),
      ok ? ms(f.lag.p50) : '-', ok ? ms(f.lag.p95) : '-', ok ? ms(f.lag.p99) : '-', ok ? ms(f.lag.max) : '-', ok ? slope(f.lag.slopeMsPerMin) : '-',
      ok ? String(f.stalls.count) : '-', ok ? String(f.clientTimeouts.count) : '-', ok ? String(f.missing.count) : '-',
      ok ? `${r.framesSent}/${f.server.audioFrames}` : '-', endOf(r),
    ]);
  }
  return grid(rows);
}

const counts = (m: Readonly<Record<string, number>>) => Object.entries(m).map(([k, n]) => `${n} ${k}`).join(', ') || '0';

/** The level's pooled figures and verdict. */
export function levelSummary(l: LevelResult): string[] {
  const f = l.figures;
  return [
    `${l.clients} client(s), ${l.durationS} s each: connected ${f.connected}, refused ${counts(f.refused)}, failed ${counts(f.failed)}, disconnects ${f.disconnects}${f.disconnects ? ` (${counts(f.disconnectCodes)})` : ''}`,
    `lag (all clients, ${f.lag.count} frames) p50 ${ms(f.lag.p50)} p95 ${ms(f.lag.p95)} p99 ${ms(f.lag.p99)} max ${ms(f.lag.max)} ms; worst client p99 ${ms(f.worstP99)} ms; growth median ${slope(f.growth.median)}, max ${slope(f.growth.max)} ms/min`,
    `handshake p50 ${ms(f.handshake.p50)} p99 ${ms(f.handshake.p99)} ms; first audio p50 ${ms(f.firstAudio.p50)} p99 ${ms(f.firstAudio.p99)} ms; stalls ${f.stalls}, client-timeout silences ${f.clientTimeouts}, frames never answered ${f.missing}`,
    ...('figures' in l.server ? [serverLine(l.server.figures)] : []),
    l.pass ? `PASS: every client's lag p99 <= ${l.budgetMs} ms, no stall, no disconnect, no refusal` : `FAIL: ${l.why.join('; ')}`,
  ];
}

/** One line per capacity-search level. */
export function levelLine(l: LevelResult): string {
  const f = l.figures;
  return `${String(l.clients).padStart(4)} clients: lag p50 ${ms(f.lag.p50)} p99 ${ms(f.lag.p99)} worst client p99 ${ms(f.worstP99)} ms, growth max ${slope(f.growth.max)} ms/min, first audio p50 ${ms(f.firstAudio.p50)} ms, ` +
    `refused ${counts(f.refused)}, stalls ${f.stalls}, disconnects ${f.disconnects}: ${l.pass ? 'pass' : `FAIL (${l.why.join('; ')})`}` +
    ('figures' in l.server ? `; ${serverLine(l.server.figures)}` : '');
}
