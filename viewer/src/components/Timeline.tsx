// The step timeline: one stacked bar per step on a canvas (thousands of steps redraw in a
// frame; DOM or SVG would not), stacked in pipeline order (receive, wait, engine, send) with
// a tick at the step's end-to-end time (e2e), so the 80 ms budget line reads against what
// the budget counts: frame in → reply out. Misses (e2e over budget) are red triangles over
// their bars, events diamonds in a lane below them. Wheel zooms around
// the pointer, drag pans, click selects a step.
//
// What was drawn is written to the canvas's data-* attributes (steps drawn, the budget
// line's y, miss markers' x): the browser test reads them and checks the pixels there.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ReadStep } from '../../../harness/format/steps.ts';
import { endToEndMs, type SpanName } from '../../../src/telemetry/spans.ts';
import { isBudgetMiss } from '../../../harness/view/stats.ts';
import { BUDGET_COLOR, DIVERGED_COLOR, EVENT_COLORS, fmtMs, MISS_COLOR, PLAYHEAD_COLOR, SELECT_COLOR, SPAN_COLORS } from '../lib/colors.ts';
import { dashedLevel, prepareCanvas } from '../lib/canvas.ts';
import { useLanePointer } from '../lib/lane.ts';
import type { Viewport } from '../lib/viewport.ts';

/** Bottom to top: pipeline order, so the top of a bar is (about) its e2e. */
export const STACK: readonly SpanName[] = ['net.recv', 'queue.wait', 'mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'net.send'];
const ENGINE = new Set<SpanName>(['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode']);
const HEIGHT = 260;
const MARK_ROW = 14; // miss triangles
const EVENT_ROW = 14; // event diamonds
const AXIS = 18;

interface Props {
  readonly steps: readonly ReadStep[];
  readonly budgetMs: number;
  readonly view: Viewport;
  readonly onView: (v: Viewport) => void;
  readonly selected: number | null;
  readonly onSelect: (i: number) => void;
  readonly diverged: number | null;
  readonly playhead: number | null;
}

function stacked(s: ReadStep): number {
  let t = 0;
  for (const n of STACK) t += s.spans[n] ?? 0;
  return Math.max(t, endToEndMs(s.spans) ?? 0);
}

export function Timeline({ steps, budgetMs, view, onView, selected, onSelect, diverged, playhead }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const { width, dragging, handlers } = useLanePointer({
    canvas, view, onView, total: steps.length, onSelect,
    onHover: (at) => setHover(at && at.line >= 0 && at.line < steps.length ? { i: at.line, x: at.x, y: at.y } : null),
  });

  // Y scale: from e2e (what the budget counts), up to 4× the budget: queue.wait can run to
  // seconds once frames back up, and scaling to it would flatten the engine spans and the
  // budget line. Taller bars are cut at the top (white tick); the tooltip has every value.
  const yMax = useMemo(() => {
    const t = steps.map((s) => endToEndMs(s.spans) ?? 0).sort((a, b) => a - b);
    const p99 = t.length ? t[Math.min(t.length - 1, Math.floor(t.length * 0.99))]! : 0;
    return Math.min(budgetMs * 4, Math.max(budgetMs * 1.5, p99 * 1.25));
  }, [steps, budgetMs]);

  useEffect(() => {
    const el = canvas.current!;
    const g = prepareCanvas(el, width, HEIGHT, '#15171c');
    const top = MARK_ROW;
    const plotH = HEIGHT - MARK_ROW - EVENT_ROW - AXIS;
    const bottom = top + plotH;
    const y = (ms: number) => bottom - (Math.min(ms, yMax) / yMax) * plotH;
    const span = view.to - view.from;
    const pxPerStep = width / span;
    const first = Math.max(0, Math.floor(view.from));
    const last = Math.min(steps.length, Math.ceil(view.to));
    const xOf = (i: number) => (i - view.from) * pxPerStep;

    // Bars. Above one step per pixel each step gets its own bar; below, each pixel column
    // shows the tallest step that falls in it (a miss never disappears by zooming out).
    let drawn = 0;
    const missXs: number[] = [];
    const eventXs: number[] = [];
    const barW = Math.max(1, pxPerStep * 0.8);
    const drawBar = (s: ReadStep, x: number, w: number) => {
      let base = 0;
      for (const n of STACK) {
        const ms = s.spans[n];
        if (ms === undefined || ms <= 0) continue;
        g.globalAlpha = ENGINE.has(n) ? 1 : 0.55;
        g.fillStyle = SPAN_COLORS[n];
        const y0 = y(base), y1 = y(base + ms);
        g.fillRect(x, y1, w, Math.max(y0 - y1, 0.5));
        base += ms;
      }
      g.globalAlpha = 1;
      // The e2e tick: where the reply left (it includes the engine's IPC time the stack lacks).
      const e2e = endToEndMs(s.spans);
      if (e2e !== undefined && e2e <= yMax) {
        g.fillStyle = SPAN_COLORS.e2e;
        g.fillRect(x, Math.round(y(e2e)) - 1, w, 2);
      }
      if (Math.max(base, e2e ?? 0) > yMax) {
        g.fillStyle = '#ffffff';
        g.fillRect(x, top, w, 2);
      }
    };
    if (pxPerStep >= 1) {
      for (let i = first; i < last; i++) {
        drawBar(steps[i]!, xOf(i) + (pxPerStep - barW) / 2, barW);
        drawn++;
      }
    } else {
      for (let px = 0; px < width; px++) {
        const a = Math.max(first, Math.floor(view.from + px / pxPerStep));
        const b = Math.min(last, Math.floor(view.from + (px + 1) / pxPerStep));
        let best = -1, bestH = -1;
        for (let i = a; i < b; i++) {
          const h = stacked(steps[i]!);
          if (h > bestH) {
            bestH = h;
            best = i;
          }
        }
        if (best >= 0) drawBar(steps[best]!, px, 1);
        drawn += Math.max(0, b - a);
      }
    }

    // Misses and events, one marker per pixel column at most.
    let lastMissPx = -Infinity, lastEventPx = -Infinity;
    for (let i = first; i < last; i++) {
      const s = steps[i]!;
      const cx = xOf(i) + pxPerStep / 2;
      if (isBudgetMiss(s, budgetMs) && Math.round(cx) !== lastMissPx) {
        lastMissPx = Math.round(cx);
        g.fillStyle = MISS_COLOR;
        g.beginPath();
        g.moveTo(cx - 5, 1);
        g.lineTo(cx + 5, 1);
        g.lineTo(cx, MARK_ROW - 2);
        g.closePath();
        g.fill();
        missXs.push(Math.round(cx * 10) / 10);
      }
      if (s.events.length > 0 && Math.round(cx) !== lastEventPx) {
        lastEventPx = Math.round(cx);
        const ey = bottom + EVENT_ROW / 2;
        g.fillStyle = EVENT_COLORS[s.events[0]!.kind] ?? '#ffffff';
        g.beginPath();
        g.moveTo(cx, ey - 5);
        g.lineTo(cx + 5, ey);
        g.lineTo(cx, ey + 5);
        g.lineTo(cx - 5, ey);
        g.closePath();
        g.fill();
        eventXs.push(Math.round(cx * 10) / 10);
      }
    }

    // Budget line (dashed, full width).
    const by = Math.round(y(budgetMs)); // a 2 px line over rows by − 1 and by, whole pixels
    g.font = '11px system-ui, sans-serif';
    dashedLevel(g, { y: by, width, color: BUDGET_COLOR, lineWidth: 2, dash: [8, 4], label: `${budgetMs} ms budget`, labelX: 4, labelGap: 4 });

    // Selection, divergence, playhead.
    if (selected !== null && selected >= first && selected < last) {
      g.fillStyle = SELECT_COLOR;
      g.fillRect(xOf(selected), top, Math.max(pxPerStep, 2), plotH);
    }
    if (diverged !== null && diverged >= first && diverged < last) {
      g.fillStyle = DIVERGED_COLOR;
      g.fillRect(xOf(diverged) + pxPerStep / 2 - 1, top, 2, plotH);
    }
    if (playhead !== null && playhead >= view.from && playhead <= view.to) {
      g.fillStyle = PLAYHEAD_COLOR;
      g.fillRect(xOf(playhead) - 1, 0, 2, HEIGHT - AXIS);
    }

    // Axis: step numbers and audio time.
    g.fillStyle = '#9aa0a6';
    g.font = '10px system-ui, sans-serif';
    const tick = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].find((t) => t * pxPerStep >= 70) ?? 10000;
    for (let i = Math.ceil(view.from / tick) * tick; i < view.to; i += tick) {
      const x = xOf(i);
      g.fillRect(x, HEIGHT - AXIS, 1, 4);
      g.fillText(`${steps[i]?.step ?? i} · ${((i * 80) / 1000).toFixed(i * 80 < 10000 ? 2 : 1)} s`, x + 2, HEIGHT - 4);
    }
    el.dataset.stepsDrawn = String(drawn);
    el.dataset.stepsInView = String(last - first);
    el.dataset.budgetY = String(by);
    el.dataset.missXs = missXs.join(',');
    el.dataset.eventXs = eventXs.join(',');
    el.dataset.barWidth = String(barW);
    el.dataset.playhead = playhead === null ? '' : playhead.toFixed(2);
    // For test/e2e/viewer-load.ts: when a session's timeline first reached the canvas.
    if (performance.getEntriesByName('timeline-drawn').length === 0) performance.mark('timeline-drawn');
  }, [steps, budgetMs, view, width, yMax, selected, diverged, playhead]);

  const h = hover && steps[hover.i];
  return (
    <div className="timeline">
      <canvas
        ref={canvas}
        data-testid="timeline"
        style={{ width: '100%', height: HEIGHT, cursor: dragging ? 'grabbing' : 'crosshair' }}
        {...handlers}
      />
      {h && hover && (
        <div className="tooltip" style={{ left: Math.min(hover.x + 12, width - 230), top: hover.y + 12 }}>
          <b>step {h.step}</b> at {fmtMs(h.timeMs, 0)}
          {STACK.map((n) => h.spans[n] !== undefined && <div key={n}><span className="swatch" style={{ background: SPAN_COLORS[n] }} />{n} {fmtMs(h.spans[n])}</div>)}
          <div>step.total {fmtMs(h.spans['step.total'])} (model work)</div>
          <div><span className="swatch" style={{ background: SPAN_COLORS.e2e }} />e2e {fmtMs(endToEndMs(h.spans))}{h.spans.e2e === undefined ? ' (sum of spans)' : ''}{isBudgetMiss(h, budgetMs) ? ' — over budget' : ''}</div>
          {h.events.map((e, k) => <div key={k} style={{ color: EVENT_COLORS[e.kind] }}>◆ {e.kind}</div>)}
        </div>
      )}
      <div className="legend">
        {STACK.map((n) => <span key={n}><span className="swatch" style={{ background: SPAN_COLORS[n], opacity: ENGINE.has(n) ? 1 : 0.55 }} />{n}</span>)}
        <span><span className="swatch" style={{ background: SPAN_COLORS.e2e }} />e2e (frame in → reply out)</span>
        <span><span className="swatch" style={{ background: BUDGET_COLOR }} />budget {budgetMs} ms (e2e)</span>
        <span style={{ color: MISS_COLOR }}>▼ miss</span>
        <span>◆ event</span>
        <span>▔ white tick: bar cut at the top of the scale</span>
        <span className="hint">wheel: zoom · drag: pan · click: select</span>
      </div>
    </div>
  );
}
