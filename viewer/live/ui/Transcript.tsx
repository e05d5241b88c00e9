// Text as it arrives, one TEXT_PARTIAL at a time; the final text once the session ends.
// A model without a detokenizer (the tiny one) sends token ids only: shown as ‹id›.
import type { TextPartial } from '../messages.ts';

export function Transcript({ partials, count, finalText }: { partials: readonly TextPartial[]; count: number; finalText: string | null }) {
  return (
    <div className="transcript">
      <h2>
        Text <small data-testid="partials-count">{count}</small> partials
      </h2>
      <p data-testid="transcript">
        {partials.map((p) => (
          <span key={p.step} title={`step ${p.step}, token ${p.token}`} className={p.piece === null ? 'token' : 'piece'}>
            {p.piece ?? `‹${p.token}›`}
          </span>
        ))}
      </p>
      {finalText !== null && <p className="final" data-testid="final-text">Final: {finalText === '' ? '(no text pieces: this model has no detokenizer)' : finalText}</p>}
    </div>
  );
}
