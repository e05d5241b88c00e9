// The newest saved replay result (SESSION/replays/, written by `solacelive replay`): the
// verdict and, for a divergence, the first divergent step with both sides' values.
import type { StepView } from '../../../harness/compare.ts';
import type { ReplayResult } from '../../../harness/view/replay-result.ts';

const FIELDS: (keyof StepView)[] = ['inputCodes', 'text', 'audioCodes', 'pcmHash'];
const show = (v: unknown) => (Array.isArray(v) ? v.join(' ') : v === null ? 'null' : String(v));

export function ReplayPanel({ replay, onShow }: { replay: ReplayResult | null; onShow: (step: number) => void }) {
  if (replay === null) return <div className="replay muted" data-testid="replay">No replay result saved for this session (<code>solacelive replay SESSION</code> writes one).</div>;
  const c = replay.comparison;
  const [la, lb] = replay.labels;
  return (
    <div className={`replay ${c.kind}`} data-testid="replay">
      <div><b data-testid="verdict">{replay.verdict}</b> · {replay.kind} on {replay.at} · expected {replay.expected} ({replay.ok ? 'met' : 'NOT met'}) · {replay.stepsReplayed} steps
        {replay.fingerprintDiffs.length > 0 && <div className="muted">platform differs: {replay.fingerprintDiffs.join('; ')}</div>}
      </div>
      {c.kind === 'token-exact' && c.firstPcmDiff !== null && <div>codes and tokens equal; first PCM hash difference at step <a href="#" onClick={(e) => { e.preventDefault(); onShow(c.firstPcmDiff!); }}>{c.firstPcmDiff}</a></div>}
      {c.at && (
        <div className="divergence">
          <div>first divergent step <a href="#" data-testid="show-divergence" onClick={(e) => { e.preventDefault(); onShow(c.at!.step); }}>{c.at.step}</a> (differs: {c.at.differs.join(', ')})</div>
          <table>
            <thead><tr><th>field</th><th>{la}</th><th>{lb}</th></tr></thead>
            <tbody>
              {FIELDS.map((f) => (
                <tr key={f} className={c.at!.differs.includes(f as never) ? 'differs' : ''}>
                  <td>{f}</td><td>{show(c.at!.a[f])}</td><td>{show(c.at!.b[f])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
