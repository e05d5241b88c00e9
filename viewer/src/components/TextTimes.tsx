// The server's text as it arrived: each piece with its time and the frame of the reply it
// came with (click: select it).
import type { ConnectionFigures } from '../../../harness/measure/meter.ts';
import type { LagMarks } from '../../../harness/view/proxied.ts';
import { fmtMs } from '../lib/colors.ts';

export function TextTimes({ text, pieces, frames, onSelect }: { text: ConnectionFigures['text']; pieces: LagMarks['texts']; frames: number; onSelect: (line: number) => void }) {
  if (text.count === 0) return <p className="muted" data-testid="text-times">The server sent no text messages.</p>;
  return (
    <div data-testid="text-times">
      <p className="muted">{text.count} pieces, the first at {fmtMs(text.firstMs, 0)}, {text.perSecond ?? '–'} a second{pieces.length < text.count ? ` (the first ${pieces.length} kept)` : ''}</p>
      <div className="text-pieces">
        {pieces.map((p, i) => (
          <span key={i} className="text-piece" data-testid="text-piece" title={`${(p.atMs / 1000).toFixed(2)} s · frame ${Math.floor(p.line)}`} onClick={() => onSelect(Math.min(Math.floor(p.line), frames - 1))}>
            <sub>{(p.atMs / 1000).toFixed(2)}</sub>{p.text}
          </span>
        ))}
      </div>
    </div>
  );
}
