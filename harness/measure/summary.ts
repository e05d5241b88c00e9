// The console summary of one connection's figures: a few lines a person reads at a glance.
import type { ConnectionFigures } from './meter.ts';

const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);

export function summaryLines(f: ConnectionFigures): string[] {
  const lines: string[] = [];
  const end = f.end ? `closed by ${f.end.by} (${f.end.code}${f.end.reason ? ` ${f.end.reason}` : ''})` : 'not closed';
  lines.push(`${(f.durationMs / 1000).toFixed(1)} s, ${end}; handshake ${ms(f.handshakeMs)}, first audio ${ms(f.firstAudioMs)}; frames ${f.client.audioFrames} sent, ${f.server.audioFrames} back`);
  if (f.lag.count > 0) {
    const slope = f.lag.slopeMsPerMin !== null ? `${f.lag.slopeMsPerMin >= 0 ? '+' : ''}${f.lag.slopeMsPerMin} ms/min` : `- (${f.lag.slopeNullReason ?? 'not measured'})`;
    lines.push(`lag p50 ${ms(f.lag.p50)} p95 ${ms(f.lag.p95)} p99 ${ms(f.lag.p99)} max ${ms(f.lag.max)}, growth ${slope}; late ${f.late.count}, missing ${f.missing.count}`);
  }
  lines.push(`stalls ${f.stalls.count} (> ${f.stalls.thresholdMs} ms, ${Math.round(f.stalls.totalMs)} ms in all); client-timeout silences ${f.clientTimeouts.count} (>= ${f.clientTimeouts.thresholdMs} ms)`);
  if (f.text.count > 0) lines.push(`text ${f.text.count} pieces, first at ${ms(f.text.firstMs)}, ${f.text.perSecond ?? '-'} /s`);
  const t = f.turns;
  lines.push(`turns: user ${t.userSegments}, model ${t.modelSegments} segments; response gap p50 ${ms(t.responseGap.p50)} p95 ${ms(t.responseGap.p95)}; overlaps ${t.overlaps.count}; barge-ins ${t.bargeIns.length} (${t.bargeIns.filter((b) => b.yielded).length} yielded)`);
  for (const e of f.events.slice(0, 5)) lines.push(`${e.kind}${e.side ? ` (${e.side})` : ''} at ${ms(e.atMs)}: ${e.message}`);
  if (f.events.length > 5) lines.push(`… ${f.events.length - 5} more events in proxy.json`);
  return lines;
}
