// Packet ↔ step mapping of the packet table on the recorded fixture: client frame k is step
// k, a server message is the step its TEXT_PARTIAL or gap names, handshake packets none.
import { describe, expect, it } from 'vitest';
import { openSession, type ReadStep } from '../../harness/format/node.ts';
import { packetRow, type PacketRow } from '../../harness/view/packets.ts';
import { packetStepLines } from '../../viewer/src/data/packet-steps.ts';

const FIXTURE = new URL('../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;

describe('packetStepLines on the fixture session', () => {
  it('maps every frame, reply and gap to its step and leaves the rest unmapped', async () => {
    const r = await openSession(FIXTURE);
    const steps: ReadStep[] = [];
    for await (const s of r.steps()) steps.push(s);
    const rows: PacketRow[] = [];
    for await (const p of r.packets()) rows.push(packetRow(rows.length, p.direction, p.timeMs, p.bytes));
    const lines = packetStepLines(rows, steps);
    let frame = 0;
    rows.forEach((row, k) => {
      const types = row.packets.map((p) => p.type);
      const named = row.packets.find((p) => p.step !== null)?.step;
      if (row.direction === 0 && types.includes('AUDIO_CHUNK')) expect(lines[k], `frame ${frame}`).toBe(frame++);
      else if (named !== undefined) expect(lines[k], `message ${k} names step ${named}`).toBe(named);
      else expect(lines[k], `message ${k} (${types.join('+')})`).toBe(-1);
    });
    expect(frame).toBe(steps.length);
    // Every step with output audio has its server message.
    const replied = new Set([...lines].filter((l, k) => l >= 0 && rows[k]!.direction === 1));
    expect(steps.filter((s, i) => s.pcmHash !== null && !replied.has(i))).toEqual([]);
  });
});
