// The shared viewport's zoom and pan: they stay inside the session, keep at least a few
// steps in view, and zoom about the pointer.
import { describe, expect, it } from 'vitest';
import { centreOn, clampView, MIN_SPAN, panView, zoomView } from '../../viewer/src/lib/viewport.ts';

describe('viewport', () => {
  it('zooming keeps the step under the pointer still', () => {
    const v = zoomView({ from: 0, to: 100 }, 0.5, 0.25, 1000);
    expect(v.to - v.from).toBe(50);
    expect(v.from + (v.to - v.from) * 0.25).toBeCloseTo(25, 9);
  });
  it('never zooms past MIN_SPAN steps nor out past the session', () => {
    expect(zoomView({ from: 10, to: 20 }, 0.01, 0.5, 1000).to - zoomView({ from: 10, to: 20 }, 0.01, 0.5, 1000).from).toBe(MIN_SPAN);
    expect(zoomView({ from: 10, to: 20 }, 1000, 0.5, 25)).toEqual({ from: 0, to: 25 });
    expect(clampView({ from: 0, to: 10 }, 2)).toEqual({ from: 0, to: 2 });
  });
  it('panning stops at both ends', () => {
    expect(panView({ from: 0, to: 10 }, -5, 100)).toEqual({ from: 0, to: 10 });
    expect(panView({ from: 80, to: 90 }, 50, 100)).toEqual({ from: 90, to: 100 });
    expect(panView({ from: 10, to: 20 }, 5, 100)).toEqual({ from: 15, to: 25 });
  });
  it('centres on a step', () => {
    expect(centreOn({ from: 0, to: 10 }, 50, 100)).toEqual({ from: 45.5, to: 55.5 });
    expect(centreOn({ from: 0, to: 10 }, 99, 100)).toEqual({ from: 90, to: 100 });
  });
});
