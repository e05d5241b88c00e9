// What happened, newest last: connection, recording, server events, playback underruns.
import type { LogLine } from '../session.ts';

export function EventLog({ lines }: { lines: readonly LogLine[] }) {
  const t0 = lines[0]?.t ?? 0;
  return (
    <ol className="log" data-testid="log">
      {lines.map((l, i) => (
        <li key={`${l.t}-${i}`}>
          <time>{((l.t - t0) / 1000).toFixed(2)} s</time> {l.text}
        </li>
      ))}
    </ol>
  );
}
