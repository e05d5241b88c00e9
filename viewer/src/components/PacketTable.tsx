// The packet table: every packets.bin record (direction, types, seq, size, time; for a
// Moshi session each message's kind and the Ogg pages completed in it), filtered by
// direction, type and text, and synced with the timeline both ways: "in view only" keeps
// the rows of the steps in view, a click on a row selects its step, and the selected step's
// rows are highlighted. Virtualised (fixed row height): only visible rows are in the DOM.
import { useMemo, useRef, useState } from 'react';
import { describePage, describeRow, PACKET_TYPES, type PacketRow, type WireProtocol } from '../../../harness/view/packets.ts';
import type { Viewport } from '../lib/viewport.ts';

const ROW = 22;
const VISIBLE = 14;

interface Props {
  readonly wire: WireProtocol;
  readonly rows: readonly PacketRow[];
  readonly stepLines: Int32Array;
  readonly loading: boolean;
  readonly error: string | null;
  readonly view: Viewport;
  readonly selected: number | null;
  readonly onSelect: (line: number) => void;
}

export function PacketTable({ wire, rows, stepLines, loading, error, view, selected, onSelect }: Props) {
  const [dir, setDir] = useState<'all' | '0' | '1'>('all');
  const [type, setType] = useState('all');
  const [text, setText] = useState('');
  const [inView, setInView] = useState(false);
  const [scroll, setScroll] = useState(0);
  const box = useRef<HTMLDivElement>(null);

  const shown = useMemo(() => {
    const q = text.trim().toLowerCase();
    const out: number[] = [];
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      if (dir !== 'all' && String(r.direction) !== dir) continue;
      if (type !== 'all' && !r.packets.some((p) => p.type === type)) continue;
      if (inView) {
        const line = stepLines[k]!;
        if (line < Math.floor(view.from) || line >= Math.ceil(view.to)) continue;
      }
      if (q && !describeRow(r).toLowerCase().includes(q)) continue;
      out.push(k);
    }
    return out;
  }, [rows, stepLines, dir, type, text, inView, view]);

  const first = Math.floor(scroll / ROW);
  const slice = shown.slice(first, first + VISIBLE + 2);
  return (
    <div className="packets">
      <div className="filters">
        <label>direction <select data-testid="filter-direction" value={dir} onChange={(e) => setDir(e.target.value as 'all' | '0' | '1')}>
          <option value="all">both</option><option value="0">client → server</option><option value="1">server → client</option>
        </select></label>
        <label>type <select data-testid="filter-type" value={type} onChange={(e) => setType(e.target.value)}>
          <option value="all">all</option>{PACKET_TYPES[wire].map((t) => <option key={t}>{t}</option>)}
        </select></label>
        <label>text <input data-testid="filter-text" value={text} onChange={(e) => setText(e.target.value)} placeholder="seq, note…" /></label>
        <label><input type="checkbox" data-testid="filter-in-view" checked={inView} onChange={(e) => setInView(e.target.checked)} /> steps in view only</label>
        <span data-testid="packet-count">{shown.length} of {rows.length} messages{loading ? ' (loading…)' : ''}</span>
        {error && <span className="error">packets.bin: {error}</span>}
      </div>
      <div className="thead"><span>#</span><span>dir</span><span>time</span><span>bytes</span><span>step</span><span>{wire === 'moshi' ? 'message (kind · Ogg pages: #sequence g=granule bytes packets)' : 'packets (type #seq)'}</span></div>
      <div className="tbody" ref={box} style={{ height: ROW * VISIBLE }} onScroll={(e) => setScroll(e.currentTarget.scrollTop)}>
        <div style={{ height: shown.length * ROW, position: 'relative' }}>
          {slice.map((k, n) => {
            const r = rows[k]!;
            const line = stepLines[k]!;
            return (
              <div key={k} data-testid="packet-row" data-direction={r.direction} data-kind={r.packets.map((p) => p.type).join(' ')} className={`tr${line === selected && line >= 0 ? ' selected' : ''}${r.error ? ' bad' : ''}`} style={{ top: (first + n) * ROW, height: ROW }} onClick={() => line >= 0 && onSelect(line)}>
                <span>{r.index}</span>
                <span>{r.direction === 0 ? 'C→S' : 'S→C'}</span>
                <span>{r.timeMs.toFixed(1)}</span>
                <span>{r.size}</span>
                <span>{line >= 0 ? line : ''}</span>
                <span className="pk" title={describeRow(r)}>
                  {r.packets.map((p) => `${p.type}${p.seq === null ? '' : ` #${p.seq}`}${p.note ? ` ${p.note}` : ''}`).join(' · ')}
                  {r.pages.map((p, i) => (
                    <span key={i} className="ogg-page" data-testid="ogg-page" data-sequence={p.sequence} data-granule={p.granule ?? -1} data-size={p.size} data-packets={p.packets} data-bos={p.bos} data-eos={p.eos} data-carried={p.carried}>
                      {' · '}{describePage(p)}
                    </span>
                  ))}
                  {r.pendingBytes ? ` · +${r.pendingBytes} B of a later page` : ''}
                  {r.error ? ` ⚠ ${r.error}` : ''}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
