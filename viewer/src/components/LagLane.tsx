// The lag lane of a session measured from outside the server (proxied or load test): the
// response lag of every reply on the client frame it answers, on the page's shared viewport,
// so latency that grows during the conversation is one rising line. p50 and p99 are dashed
// levels, the least-squares growth (proxy.json's slope) a straight line over the points;
// stalls are bands between the last reply before the gap and the first after it (where the
// line jumps; the label gives the duration), the client's give-up silence and the close are
// vertical markers. The figures above it are proxy.json's.
//
// What was drawn is written to the canvas's data-* attributes (points drawn, the levels' y,
// markers' x): the browser test reads them and checks the pixels there.
import { useEffect, useMemo, useRef, useState } from 'react';
import { endText, lagMarks, lagPoints, slopeText, type LagPoint, type ProxyFile } from '../../../harness/view/proxied.ts';
import { dashedLevel, prepareCanvas } from '../lib/canvas.ts';
import { fmtMs, LAG_COLORS, PLAYHEAD_COLOR, SELECT_COLOR } from '../lib/colors.ts';
import { useLanePointer } from '../lib/lane.ts';
import type { Viewport } from '../lib/viewport.ts';

const HEIGHT = 220;
const MARK_ROW = 14;
const AXIS = 18;
const FRAME_MS = 80;

interface Props {
  readonly file: ProxyFile;
  /** Step lines in the session (the viewport's extent). */
  readonly total: number;
  readonly view: Viewport;
  readonly onView: (v: Viewport) => void;
  readonly selected: number | null;
  readonly onSelect: (line: number) => void;
  readonly playhead: number | null;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function LagLane({ file, total, view, onView, selected, onSelect, playhead }: Props) {
  const f = file.figures;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ p: LagPoint; x: number; y: number } | null>(null);
  const points = useMemo(() => lagPoints(f), [f]);
  const byLine = useMemo(() => new Map(points.map((p) => [p.line, p])), [points]);
  const { width, handlers } = useLanePointer({
    canvas, view, onView, total, onSelect,
    onHover: (at) => {
      const p = at && byLine.get(at.line);
      setHover(at && p ? { p, x: at.x, y: at.y } : null);
    },
  });
  const marks = useMemo(() => lagMarks(f, total), [f, total]);
  // Whole-session scale (zooming does not rescale): up to the largest lag, at least 100 ms.
  const yMax = useMemo(() => Math.max(100, (f.lag.max ?? 0) * 1.1), [f]);

  useEffect(() => {
    const el = canvas.current!;
    const g = prepareCanvas(el, width, HEIGHT, '#15171c');
    const top = MARK_ROW;
    const bottom = HEIGHT - AXIS;
    const plotH = bottom - top;
    const y = (ms: number) => bottom - (Math.min(Math.max(ms, 0), yMax) / yMax) * plotH;
    const px = width / (view.to - view.from);
    // A reply's point sits in the middle of its frame's column, as the other lanes draw a step.
    const xOf = (line: number) => (line - view.from) * px;
    const inView = (x: number) => x >= -1 && x <= width + 1;
    g.font = '11px system-ui, sans-serif';

    // Stall bands under everything: at least 6 px wide, so one is never lost when zoomed out.
    const stallXs: number[] = [];
    let labelEnd = -Infinity; // a label that would overlap the previous one is left out (the table has every stall)
    for (const s of marks.stalls) {
      const x0 = xOf(s.fromLine), x1 = xOf(s.toLine);
      if (x1 < 0 || x0 > width) continue;
      const w = Math.max(6, x1 - x0);
      const left = (x0 + x1) / 2 - w / 2;
      g.fillStyle = LAG_COLORS.stall;
      g.fillRect(left, top, w, plotH);
      const label = `stall ${fmtMs(s.durationMs, 0)}`;
      if (left + w + 3 > labelEnd) {
        g.fillStyle = LAG_COLORS.stallText;
        g.fillText(label, left + w + 3, bottom - 4);
        labelEnd = left + w + 3 + g.measureText(label).width + 6;
      }
      stallXs.push(round1(left + w / 2));
    }

    // p50 and p99 levels.
    const level = (ms: number | null, color: string, label: string) => {
      if (ms === null) return -1;
      const ly = Math.round(y(ms));
      dashedLevel(g, { y: ly, width, color, lineWidth: 1, dash: [6, 4], label: `${label} ${fmtMs(ms, 0)}`, labelX: 50, labelGap: 3 });
      return ly;
    };
    const p50y = level(f.lag.p50, LAG_COLORS.p50, 'p50');
    const p99y = level(f.lag.p99, LAG_COLORS.p99, 'p99');

    // The growth: proxy.json's slope through the points' mean, over their reply times.
    if (f.lag.slopeMsPerMin !== null && points.length >= 2) {
      const meanT = points.reduce((a, p) => a + p.atMs, 0) / points.length;
      const meanLag = points.reduce((a, p) => a + p.lagMs, 0) / points.length;
      const fit = (t: number) => meanLag + ((t - meanT) * f.lag.slopeMsPerMin!) / 60_000;
      const a = points[0]!, b = points[points.length - 1]!;
      g.strokeStyle = LAG_COLORS.trend;
      g.lineWidth = 1.5;
      g.beginPath();
      g.moveTo(xOf(a.line + 0.5), y(fit(a.atMs)));
      g.lineTo(xOf(b.line + 0.5), y(fit(b.atMs)));
      g.stroke();
    }

    // The lag line (every point: thousands of segments draw in well under a frame).
    let drawn = 0;
    g.strokeStyle = LAG_COLORS.lag;
    g.lineWidth = 1.5;
    g.beginPath();
    let started = false;
    for (const p of points) {
      const x = xOf(p.line + 0.5);
      if (x < -px || x > width + px) continue;
      if (started) g.lineTo(x, y(p.lagMs));
      else g.moveTo(x, y(p.lagMs));
      started = true;
      drawn++;
    }
    g.stroke();
    if (px >= 6) {
      g.fillStyle = LAG_COLORS.lag;
      for (const p of points) {
        const x = xOf(p.line + 0.5);
        if (inView(x)) g.fillRect(x - 1.5, y(p.lagMs) - 1.5, 3, 3);
      }
    }

    // Markers: the client's give-up point and the close, full height with a label at the top.
    const vmark = (line: number, color: string, label: string) => {
      const x = Math.round(xOf(line));
      if (!inView(x)) return null;
      g.fillStyle = color;
      g.fillRect(x - 1, 0, 2, bottom);
      g.beginPath();
      g.moveTo(x - 5, 0);
      g.lineTo(x + 5, 0);
      g.lineTo(x, MARK_ROW - 3);
      g.closePath();
      g.fill();
      // Left of a marker near the right edge, so the label stays whole.
      const w = g.measureText(label).width;
      g.fillText(label, x + 4 + w > width ? x - 4 - w : x + 4, MARK_ROW + 10);
      return x;
    };
    const timeoutXs = marks.timeouts.flatMap((t) => vmark(t.line, LAG_COLORS.timeout, `${(f.clientTimeouts.thresholdMs / 1000).toFixed(0)} s client timeout`) ?? []);
    const endX = marks.end ? vmark(marks.end.line, LAG_COLORS.end, endText(marks.end)) : null;

    if (selected !== null) {
      g.fillStyle = SELECT_COLOR;
      g.fillRect(xOf(selected), top, Math.max(px, 2), plotH);
    }
    if (playhead !== null && playhead >= view.from && playhead <= view.to) {
      g.fillStyle = PLAYHEAD_COLOR;
      g.fillRect(xOf(playhead) - 1, 0, 2, bottom);
    }

    // Axes: lag on the left, client frame · session time below.
    g.fillStyle = '#9aa0a6';
    g.font = '10px system-ui, sans-serif';
    g.fillText(`${Math.round(yMax)} ms`, 4, top + 10);
    g.fillText('0', 4, bottom - 2);
    const tick = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].find((t) => t * px >= 70) ?? 10000;
    for (let i = Math.ceil(view.from / tick) * tick; i < view.to; i += tick) {
      const x = xOf(i);
      g.fillRect(x, bottom, 1, 4);
      g.fillText(`${i} · ${((i * FRAME_MS) / 1000).toFixed(i * FRAME_MS < 10000 ? 2 : 1)} s`, x + 2, HEIGHT - 4);
    }

    el.dataset.points = String(drawn);
    el.dataset.yMax = String(yMax);
    el.dataset.p50Y = String(p50y);
    el.dataset.p99Y = String(p99y);
    el.dataset.stallXs = stallXs.join(',');
    el.dataset.timeoutXs = timeoutXs.join(',');
    el.dataset.endX = endX === null ? '' : String(endX);
  }, [f, points, marks, view, width, yMax, selected, playhead]);

  const lag = f.lag;
  const fig = (id: string, v: number | null, text: string, title?: string) => <b data-testid={id} data-value={v === null ? '' : String(v)} title={title}>{text}</b>;
  return (
    <div className="lag-lane">
      <div className="lag-figures" data-testid="lag-figures">
        response lag over {lag.count} replies: p50 {fig('lag-p50', lag.p50, fmtMs(lag.p50))} · p95 {fmtMs(lag.p95)} · p99 {fig('lag-p99', lag.p99, fmtMs(lag.p99))} · max {fmtMs(lag.max)} ·
        growth {fig('lag-slope', lag.slopeMsPerMin, slopeText(lag.slopeMsPerMin), lag.slopeNullReason ?? undefined)}
        <span className={f.stalls.count > 0 ? 'warn' : 'muted'}> · stalls {fig('lag-stalls', f.stalls.count, String(f.stalls.count))} (&gt; {f.stalls.thresholdMs} ms, {fmtMs(f.stalls.totalMs, 0)} in all)</span>
        <span className={f.clientTimeouts.count > 0 ? 'error' : 'muted'}> · client-timeout silences {fig('lag-timeouts', f.clientTimeouts.count, String(f.clientTimeouts.count))} (≥ {f.clientTimeouts.thresholdMs / 1000} s)</span>
        <span> · {endText(f.end)}</span>
      </div>
      <div className="timeline">
        <canvas ref={canvas} data-testid="lag-lane" style={{ width: '100%', height: HEIGHT, cursor: 'crosshair' }}
          {...handlers} />
        {hover && (
          <div className="tooltip" style={{ left: Math.min(hover.x + 12, width - 230), top: hover.y + 12 }}>
            <b>frame {hover.p.line}</b> (sent by {((hover.p.atMs - hover.p.lagMs) / 1000).toFixed(2)} s)
            <div>reply at {(hover.p.atMs / 1000).toFixed(2)} s: lag {fmtMs(hover.p.lagMs)}</div>
          </div>
        )}
      </div>
      <div className="legend">
        <span><span className="swatch" style={{ background: LAG_COLORS.lag }} />lag: reply arrival − arrival of the client frame it answers (x: that frame · its time in the session)</span>
        <span style={{ color: LAG_COLORS.p50 }}>- - p50</span>
        <span style={{ color: LAG_COLORS.p99 }}>- - p99</span>
        <span style={{ color: LAG_COLORS.trend }}>— growth (least squares)</span>
        <span><span className="swatch" style={{ background: LAG_COLORS.stall }} />stall: no server audio between two replies</span>
        <span style={{ color: LAG_COLORS.timeout }}>▼ client gives up</span>
        <span style={{ color: LAG_COLORS.end }}>▼ close</span>
        <span className="hint">wheel: zoom · drag: pan · click: select · hover: a reply's lag</span>
      </div>
    </div>
  );
}
