// Which step each packet belongs to, for the packet table ↔ timeline sync. The same rules
// as the trace export: client audio frame k is step k (src/server/cadence.ts); a server
// message names its step in TEXT_PARTIAL/METADATA JSON, and otherwise its AUDIO_CHUNK is
// the next step that produced PCM (audio is never dropped). Packets of no step (handshake,
// heartbeats, acks) get null.
import type { ReadStep } from '../../../harness/format/steps.ts';
import type { PacketRow } from '../../../harness/view/packets.ts';

/** Step line index (position in steps.jsonl) per packet row, or -1. */
export function packetStepLines(rows: readonly PacketRow[], steps: readonly ReadStep[]): Int32Array {
  const lineOf = new Map<number, number>();
  steps.forEach((s, i) => lineOf.set(s.step, i));
  const withAudio = steps.filter((s) => s.pcmHash !== null).map((s) => s.step);
  const out = new Int32Array(rows.length).fill(-1);
  let inFrames = 0, outAudio = 0;
  rows.forEach((r, k) => {
    let step: number | null = null;
    for (const p of r.packets) {
      if (p.step !== null) step ??= p.step;
      if (p.type === 'AUDIO_CHUNK') {
        if (r.direction === 0) step ??= inFrames++;
        else {
          const s = withAudio[outAudio++];
          if (s !== undefined) step ??= s;
        }
      }
    }
    if (step !== null) out[k] = lineOf.get(step) ?? -1;
  });
  return out;
}
