// What every zoomable lane of a session page does with the pointer: it tracks its canvas's
// width, zooms around the pointer on the wheel (shift or a sideways wheel pans), pans on a
// drag and selects the line under a click. Lanes differ only in what they draw and what
// their hover shows, so each passes `onHover` the line under the pointer.
import { useEffect, useRef, useState, type PointerEvent, type RefObject } from 'react';
import { panView, zoomView, type Viewport } from './viewport.ts';

export interface LaneInput {
  readonly canvas: RefObject<HTMLCanvasElement | null>;
  readonly view: Viewport;
  readonly onView: (v: Viewport) => void;
  /** Lines in the session (the viewport's extent; a click outside selects nothing). */
  readonly total: number;
  readonly onSelect: (line: number) => void;
  /** The line under the pointer and where it is in the canvas, or null when it leaves. */
  readonly onHover: (at: { line: number; x: number; y: number } | null) => void;
}

export interface LanePointer {
  readonly width: number;
  readonly dragging: boolean;
  readonly handlers: {
    onPointerDown(e: PointerEvent<HTMLCanvasElement>): void;
    onPointerMove(e: PointerEvent<HTMLCanvasElement>): void;
    onPointerUp(e: PointerEvent<HTMLCanvasElement>): void;
    onPointerLeave(): void;
  };
}

export function useLanePointer({ canvas, view, onView, total, onSelect, onHover }: LaneInput): LanePointer {
  const [width, setWidth] = useState(800);
  const drag = useRef<{ x: number; view: Viewport; moved: boolean } | null>(null);

  useEffect(() => {
    const el = canvas.current!;
    const ro = new ResizeObserver(() => setWidth(Math.max(200, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, [canvas]);

  // Wheel zoom needs a non-passive listener to stop the page from scrolling.
  useEffect(() => {
    const el = canvas.current!;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) onView(panView(view, ((e.deltaX || e.deltaY) / r.width) * (view.to - view.from), total));
      else onView(zoomView(view, Math.exp(e.deltaY * 0.002), (e.clientX - r.left) / r.width, total));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [canvas, view, onView, total]);

  const lineAt = (clientX: number): number => {
    const r = canvas.current!.getBoundingClientRect();
    return Math.floor(view.from + ((clientX - r.left) / r.width) * (view.to - view.from));
  };

  return {
    width,
    dragging: drag.current !== null,
    handlers: {
      onPointerDown(e) {
        drag.current = { x: e.clientX, view, moved: false };
        e.currentTarget.setPointerCapture(e.pointerId);
      },
      onPointerMove(e) {
        const d = drag.current;
        if (d) {
          const dx = e.clientX - d.x;
          if (Math.abs(dx) > 3) d.moved = true;
          if (d.moved) onView(panView(d.view, (-dx / e.currentTarget.clientWidth) * (d.view.to - d.view.from), total));
        }
        const r = e.currentTarget.getBoundingClientRect();
        onHover({ line: lineAt(e.clientX), x: e.clientX - r.left, y: e.clientY - r.top });
      },
      onPointerUp(e) {
        const d = drag.current;
        drag.current = null;
        if (d && !d.moved) {
          const i = lineAt(e.clientX);
          if (i >= 0 && i < total) onSelect(i);
        }
      },
      onPointerLeave() {
        onHover(null);
      },
    },
  };
}
