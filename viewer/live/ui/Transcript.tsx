// Text as it arrives, one item at a time (a TEXT_PARTIAL, or a Moshi text piece); the final
// text once the session ends. Over packets a model without a detokenizer (the tiny one)
// sends token ids only: shown as ‹id›. Over Moshi such a model sends no text at all.
import type { TextItem } from '../link.ts';

const where = (p: TextItem) => (p.step === null ? `piece ${p.seq + 1}` : `step ${p.step}, token ${p.token}`);

export function Transcript({ partials, count, finalText }: { partials: readonly TextItem[]; count: number; finalText: string | null }) {
  return (
    <div className="transcript">
      <h2>
        Text <small data-testid="partials-count">{count}</small> partials
      </h2>
      <p data-testid="transcript">
        {partials.map((p) => (
          <span key={p.seq} title={where(p)} className={p.piece === null ? 'token' : 'piece'}>
            {p.piece ?? `‹${p.token}›`}
          </span>
        ))}
      </p>
      {finalText !== null && <p className="final" data-testid="final-text">Final: {finalText === '' ? '(no text pieces: this model has no detokenizer)' : finalText}</p>}
    </div>
  );
}
