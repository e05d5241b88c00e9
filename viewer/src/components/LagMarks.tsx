// The timed things of a proxied or load-test session as a table (stalls, client-timeout
// silences, the close, the proxy's events), each on the frame of the replies around it (a
// stall: the first reply after it): a click selects that frame on every lane.
import { endText, type LagMarks as Marks } from '../../../harness/view/proxied.ts';
import { fmtMs } from '../lib/colors.ts';

interface Row {
  readonly kind: string;
  readonly atMs: number;
  readonly line: number;
  readonly what: string;
  readonly cls: string;
}

export function LagMarks({ marks, frames, onSelect }: { marks: Marks; frames: number; onSelect: (line: number) => void }) {
  // A mark at the session's end (line = frames) belongs to its last frame.
  const frameOf = (line: number) => Math.max(0, Math.min(Math.floor(line), frames - 1));
  const rows: Row[] = [
    ...marks.stalls.map((s) => ({ kind: 'stall', atMs: s.atMs, line: (s.fromLine + s.toLine) / 2, what: `no server audio for ${fmtMs(s.durationMs, 0)}`, cls: 'warn' })),
    ...marks.timeouts.map((t) => ({ kind: 'client-timeout', atMs: t.atMs, line: t.line, what: `no server message for ${fmtMs(t.silentMs, 0)}: a client that gives up here would have closed`, cls: 'error' })),
    ...marks.events.map((e) => ({ kind: e.kind, atMs: e.atMs, line: e.line, what: `${e.side ? `${e.side}: ` : ''}${e.message}${e.code === undefined ? '' : ` (${e.code})`}`, cls: 'warn' })),
    ...(marks.end ? [{ kind: 'close', atMs: marks.end.atMs, line: marks.end.line, what: endText(marks.end), cls: marks.end.code === 1000 ? 'muted' : 'error' }] : []),
  ].sort((a, b) => a.atMs - b.atMs);
  return (
    <table className="lag-marks" data-testid="lag-marks">
      <thead><tr><th>at</th><th>frame</th><th>kind</th><th>what</th></tr></thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i} data-testid="mark-row" data-kind={r.kind} className={r.cls}>
            <td>{(r.atMs / 1000).toFixed(2)} s</td>
            <td><a href="#" onClick={(e) => { e.preventDefault(); onSelect(frameOf(r.line)); }}>{frameOf(r.line)}</a></td>
            <td><b>{r.kind}</b></td><td>{r.what}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
