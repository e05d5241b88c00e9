// Which step each packet belongs to, for the packet table ↔ timeline sync. The same rules
// as the trace export, by order: the k-th client input frame is step k (src/server/cadence.ts;
// a row's `frames` says how many it completes: SolaceLive, one per AUDIO_CHUNK; Moshi, the
// 1920-sample frames its Ogg Opus pages complete); a server message names its step in
// TEXT_PARTIAL/METADATA JSON, and otherwise its audio is the next step that produced PCM
// (audio is never dropped; for Moshi, the k-th audio message after the Opus header message)
// and its Moshi text piece the next step with a piece. Packets of no step (handshake,
// heartbeats, pings, acks, metadata) get null.
import type { ReadStep } from '../../../harness/format/steps.ts';
import type { PacketRow } from '../../../harness/view/packets.ts';

/** Step line index (position in steps.jsonl) per packet row, or -1. */
export function packetStepLines(rows: readonly PacketRow[], steps: readonly ReadStep[]): Int32Array {
  const lineOf = new Map<number, number>();
  steps.forEach((s, i) => lineOf.set(s.step, i));
  const withAudio = steps.filter((s) => s.pcmHash !== null).map((s) => s.step);
  const withText = steps.filter((s) => s.text !== null && s.textPiece).map((s) => s.step);
  const out = new Int32Array(rows.length).fill(-1);
  let inFrames = 0, outAudio = 0, outText = 0;
  rows.forEach((r, k) => {
    let step: number | null = null;
    for (const p of r.packets) if (p.step !== null) step ??= p.step;
    if (r.direction === 0) {
      // A message completing several frames selects the first of them.
      if (r.frames > 0) step ??= inFrames;
      inFrames += r.frames;
    } else {
      if (r.frames > 0) step ??= withAudio[outAudio] ?? null;
      outAudio += r.frames;
      if (r.texts > 0) step ??= withText[outText] ?? null;
      outText += r.texts;
    }
    if (step !== null) out[k] = lineOf.get(step) ?? -1;
  });
  return out;
}
