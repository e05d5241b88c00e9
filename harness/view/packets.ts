// One packets.bin record as a row of the viewer's packet table (and the trace's packet
// tracks): the protocol packets the WebSocket message held, decoded with the server's own
// codec (src/protocol), without keeping audio samples. Browser-safe and pure.
import { readPacket } from '../../src/protocol/decode.ts';
import { isProtocolError } from '../../src/protocol/errors.ts';
import type { Packet, PacketTypeName } from '../../src/protocol/index.ts';

export interface PacketInfo {
  readonly type: PacketTypeName;
  readonly seq: number;
  readonly priority: number;
  /** Header + payload bytes. */
  readonly size: number;
  /** The step a TEXT_PARTIAL or METADATA gap names ({"step": N}), else null. */
  readonly step: number | null;
  /** Text, or METADATA's "type", shortened for a table cell. */
  readonly note: string;
}

export interface PacketRow {
  /** Position in packets.bin (0-based). */
  readonly index: number;
  readonly direction: 0 | 1;
  readonly timeMs: number;
  /** WebSocket message bytes. */
  readonly size: number;
  readonly packets: readonly PacketInfo[];
  /** Why the rest of the message did not decode (packets before it are listed). */
  readonly error: string | null;
}

function stepOf(v: unknown): number | null {
  const s = typeof v === 'object' && v !== null ? (v as { step?: unknown }).step : undefined;
  return Number.isSafeInteger(s) ? (s as number) : null;
}

function info(p: Packet, size: number): PacketInfo {
  let step: number | null = null, note = '';
  if (p.type === 'TEXT_PARTIAL' || p.type === 'TEXT_FINAL') {
    try {
      const j = JSON.parse(p.text) as unknown;
      step = stepOf(j);
      const piece = (j as { piece?: unknown; token?: unknown; text?: unknown });
      note = p.type === 'TEXT_FINAL' ? `"${String(piece.text ?? '')}"` : piece.piece != null ? `${String(piece.piece)}` : `token ${String(piece.token)}`;
    } catch {
      note = p.text;
    }
  } else if (p.type === 'METADATA') {
    step = stepOf(p.data);
    const t = typeof p.data === 'object' && p.data !== null && !Array.isArray(p.data) ? p.data.type : undefined;
    note = typeof t === 'string' ? t : '';
    const reason = typeof p.data === 'object' && p.data !== null && !Array.isArray(p.data) ? p.data.reason ?? p.data.message : undefined;
    if (typeof reason === 'string') note += `: ${reason}`;
  } else if (p.type === 'ACK') {
    note = `ack ${p.ackSequence}`;
  }
  return { type: p.type, seq: p.sequence, priority: p.priority, size, step, note: note.length > 80 ? `${note.slice(0, 79)}…` : note };
}

export function packetRow(index: number, direction: 0 | 1, timeMs: number, bytes: Uint8Array): PacketRow {
  const packets: PacketInfo[] = [];
  let error: string | null = bytes.length === 0 ? 'PKT_ERR_EMPTY: empty message' : null;
  for (let at = 0; at < bytes.length;) {
    try {
      const { packet, next } = readPacket(bytes, at);
      packets.push(info(packet, next - at));
      at = next;
    } catch (err) {
      if (!isProtocolError(err)) throw err;
      error = `${err.code} at byte ${at}: ${err.message}`;
      break;
    }
  }
  return { index, direction, timeMs, size: bytes.length, packets, error };
}
