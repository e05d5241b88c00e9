// A canvas sized for the screen's pixel density (crisp lines on HiDPI), cleared to a
// background; drawing then uses CSS pixels.

export function prepareCanvas(el: HTMLCanvasElement, width: number, height: number, background: string): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  el.width = Math.round(width * dpr);
  el.height = Math.round(height * dpr);
  const g = el.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = background;
  g.fillRect(0, 0, width, height);
  return g;
}

/** A dashed level across the whole width at row `y` (a budget, a percentile), then its label above it at `labelX`. */
export function dashedLevel(g: CanvasRenderingContext2D, o: { y: number; width: number; color: string; lineWidth: number; dash: readonly number[]; label: string; labelX: number; labelGap: number }): void {
  g.strokeStyle = o.color;
  g.lineWidth = o.lineWidth;
  g.setLineDash([...o.dash]);
  g.beginPath();
  g.moveTo(0, o.y);
  g.lineTo(o.width, o.y);
  g.stroke();
  g.setLineDash([]);
  g.fillStyle = o.color;
  g.fillText(o.label, o.labelX, o.y - o.labelGap);
}
