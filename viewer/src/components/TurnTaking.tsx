// Turn-taking measured from the two audio streams (voice activity on each side): the
// figures conversation benchmarks report, as proxy.json has them.
import type { ConnectionFigures } from '../../../harness/measure/meter.ts';
import { fmtMs } from '../lib/colors.ts';

export function TurnTaking({ t }: { t: ConnectionFigures['turns'] }) {
  const yielded = t.bargeIns.filter((b) => b.yielded).length;
  return (
    <dl className="facts" data-testid="turn-taking">
      <dt>speech segments</dt><dd data-testid="turn-segments">user {t.userSegments} · model {t.modelSegments}</dd>
      <dt>response gap</dt><dd data-testid="turn-gap" title="model onset − end of the user's turn; negative: the model started before the user stopped">{t.responseGap.count === 0 ? 'no user turn answered' : `p50 ${fmtMs(t.responseGap.p50, 0)} · p95 ${fmtMs(t.responseGap.p95, 0)} over ${t.responseGap.count} turns`}</dd>
      <dt>overlaps</dt><dd>{t.overlaps.count} ({fmtMs(t.overlaps.totalMs, 0)} in all)</dd>
      <dt>barge-ins</dt><dd>{t.bargeIns.length === 0 ? 'none' : `${t.bargeIns.length}, the model yielded to ${yielded}; time to yield ${t.bargeIns.map((b) => fmtMs(b.yieldMs, 0)).join(', ')}`}</dd>
      <dt>method</dt><dd className="muted">{t.method}</dd>
    </dl>
  );
}
