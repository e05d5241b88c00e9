// The newest saved results of this session (SESSION/replays/): its last replay (does it
// reproduce?) and, apart from it, its last `sessions diff` against another session (how do the
// two compare, and was a divergence expected?). Each shows what was compared and expected
// and, for a divergence, the first divergent step with both sides' values.
import type { StepView } from '../../../harness/compare.ts';
import type { ReplayResult } from '../../../harness/view/replay-result.ts';
import { summarizeResult } from '../../../harness/view/results.ts';

const FIELDS: (keyof StepView)[] = ['inputCodes', 'text', 'audioCodes', 'pcmHash'];
const show = (v: unknown) => (Array.isArray(v) ? v.join(' ') : v === null ? 'null' : String(v));

function ResultPanel({ r, prefix, onShow }: { r: ReplayResult; prefix: '' | 'diff-'; onShow: (step: number) => void }) {
  const c = r.comparison;
  const [la, lb] = r.labels;
  const sum = summarizeResult(r);
  const title = r.kind === 'diff' ? `diff vs ${sum.against}` : r.kind === 'paced' ? 'last paced replay' : 'last replay';
  return (
    <div className={`replay ${c.kind}${sum.outcome === 'divergence expected' ? ' expected' : ''}`} data-testid={`${prefix}replay`} data-outcome={sum.outcome}>
      <div>{title}: <b data-testid={`${prefix}verdict`}>{r.verdict}</b> · {r.at} · {r.stepsReplayed} steps
        <div data-testid={`${prefix}expectation`}>{sum.expectation}</div>
        {r.fingerprintDiffs.length > 0 && <div className="muted">platform differs: {r.fingerprintDiffs.join('; ')}</div>}
      </div>
      {c.kind === 'token-exact' && c.firstPcmDiff !== null && <div>codes and tokens equal; first PCM hash difference at step <a href="#" onClick={(e) => { e.preventDefault(); onShow(c.firstPcmDiff!); }}>{c.firstPcmDiff}</a></div>}
      {c.at && (
        <div className="divergence">
          <div>first divergent step <a href="#" data-testid={`${prefix}show-divergence`} onClick={(e) => { e.preventDefault(); onShow(c.at!.step); }}>{c.at.step}</a> (differs: {c.at.differs.join(', ')})</div>
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

export function ReplayPanel({ replay, diff, onShow }: { replay: ReplayResult | null; diff: ReplayResult | null; onShow: (step: number) => void }) {
  return (
    <>
      {replay ? <ResultPanel r={replay} prefix="" onShow={onShow} />
        : <div className="replay muted" data-testid="replay">No replay result saved for this session (<code>solacelive replay SESSION</code> writes one).</div>}
      {diff && <ResultPanel r={diff} prefix="diff-" onShow={onShow} />}
    </>
  );
}
