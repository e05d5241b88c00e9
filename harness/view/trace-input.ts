// A read session → the Chrome-trace converter's input (src/telemetry/chrome-trace.ts).
// Browser-safe: the export-trace command and the viewer's button both go through here.
import type { SessionManifest } from '../format/manifest.ts';
import type { StepRecord } from '../format/steps.ts';
import { measuredToChromeTrace, sessionToChromeTrace, type ChromeTrace, type MeasuredTraceFigures, type TraceInput } from '../../src/telemetry/chrome-trace.ts';
import { wireOf, type PacketRow } from './packets.ts';
import { measuredSession } from './proxied.ts';

export function traceInput(name: string, manifest: SessionManifest, steps: readonly StepRecord[], packets: readonly PacketRow[]): TraceInput {
  return {
    name,
    steps: steps.map((s) => ({ step: s.step, timeMs: s.timeMs, spans: s.spans, events: s.events, text: s.text, textPiece: s.textPiece, hasAudio: s.pcmHash !== null })),
    packets: packets.map((p) => ({ direction: p.direction, timeMs: p.timeMs, size: p.size, types: p.packets.map((x) => x.type), frames: p.frames, audioMs: p.audioMs })),
    metadata: {
      model: manifest.model.id, seed: manifest.seed, createdAt: manifest.createdAt, status: manifest.status,
      platform: manifest.platform, software: manifest.software, wire: wireOf(manifest),
    },
  };
}

/**
 * The trace a session exports, the same from `export-trace` and the viewer's button: a session
 * measured from outside (proxied, load test) is drawn from its figures (proxy.json), which it
 * must have; one SolaceLive's engine recorded, from its steps.
 */
export function sessionTrace(name: string, manifest: SessionManifest, steps: readonly StepRecord[], packets: readonly PacketRow[], figures: MeasuredTraceFigures | null): ChromeTrace {
  const input = traceInput(name, manifest, steps, packets);
  const measured = measuredSession(manifest);
  if (measured === null) return sessionToChromeTrace(input);
  if (figures === null) throw new Error(`${name} is a ${measured.kind} session: its trace is drawn from its figures (proxy.json), which were not given`);
  return measuredToChromeTrace({ name, kind: measured.kind, upstream: measured.upstream, packets: input.packets, figures, ...(input.metadata ? { metadata: input.metadata } : {}) });
}
