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
