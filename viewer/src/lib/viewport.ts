// The shared horizontal view of a session page: a window [from, to) over step lines (line i
// is also WAV frame i), which timeline, waveforms and token lane all draw, and zoom/pan
// keep inside the session.

export interface Viewport {
  readonly from: number;
  readonly to: number;
}

/** At least this many steps stay in view when zooming in. */
export const MIN_SPAN = 4;

export function clampView(v: Viewport, total: number): Viewport {
  const n = Math.max(total, 1);
  let span = Math.min(Math.max(v.to - v.from, Math.min(MIN_SPAN, n)), n);
  if (!Number.isFinite(span)) span = n;
  const from = Math.min(Math.max(v.from, 0), n - span);
  return { from, to: from + span };
}

/** Zoom by `factor` (<1 in) keeping the step under `anchor` (0…1 across the view) still. */
export function zoomView(v: Viewport, factor: number, anchor: number, total: number): Viewport {
  const span = v.to - v.from;
  const at = v.from + span * anchor;
  const next = span * factor;
  return clampView({ from: at - next * anchor, to: at - next * anchor + next }, total);
}

export function panView(v: Viewport, steps: number, total: number): Viewport {
  return clampView({ from: v.from + steps, to: v.to + steps }, total);
}

/** The view centred on step line `i`, same span. */
export function centreOn(v: Viewport, i: number, total: number): Viewport {
  const span = v.to - v.from;
  return clampView({ from: i + 0.5 - span / 2, to: i + 0.5 + span / 2 }, total);
}
