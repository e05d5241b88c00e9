// The token lane: per step in view, the text piece (or token id) and the 8 audio codes.
// DOM, but only for the steps in view (the viewport bounds it), and only when a column is
// wide enough to read; otherwise it says to zoom in.
import type { ReadStep } from '../../../harness/format/steps.ts';
import type { Viewport } from '../lib/viewport.ts';

const MIN_COL_PX = 26;

export function TokenLane({ steps, view, width, selected, onSelect }: { steps: readonly ReadStep[]; view: Viewport; width: number; selected: number | null; onSelect: (i: number) => void }) {
  const span = view.to - view.from;
  const px = width / span;
  const first = Math.max(0, Math.floor(view.from));
  const last = Math.min(steps.length, Math.ceil(view.to));
  if (px < MIN_COL_PX) {
    return <div className="tokens tokens-collapsed" data-testid="token-lane">{last - first} steps in view: zoom in to read text tokens and audio codes (one column needs {MIN_COL_PX} px).</div>;
  }
  const cols = [];
  for (let i = first; i < last; i++) {
    const s = steps[i]!;
    const label = s.textPiece ?? (s.text === null ? '·' : `#${s.text}`);
    cols.push(
      <div key={i} className={`tok${i === selected ? ' selected' : ''}`} data-testid="token" data-step={s.step} style={{ left: (i - view.from) * px, width: px - 2 }} onClick={() => onSelect(i)} title={`step ${s.step}: text ${s.text ?? 'none'}${s.textPiece ? ` "${s.textPiece}"` : ''}; audio codes ${s.audioCodes?.join(' ') ?? 'none (warm-up)'}`}>
        <div className="tok-text">{label}</div>
        {(s.audioCodes ?? []).map((c, k) => <div key={k} className="tok-code" data-testid="code">{c}</div>)}
        {s.audioCodes === null && <div className="tok-code muted">—</div>}
      </div>,
    );
  }
  return <div className="tokens" data-testid="token-lane">{cols}</div>;
}
