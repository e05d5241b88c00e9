// One packets.bin record as a row of the viewer's packet table (and the trace's packet
// tracks): what the WebSocket message held, decoded with the server's own codec for the
// session's wire protocol (src/protocol for SolaceLive packets, src/protocol/moshi and
// src/audio/ogg for Moshi messages), without keeping audio samples. Browser-safe.
import { INPUT_FRAMING, recordedInputFraming, type InputFraming } from '../../src/audio/opus/input-frames.ts';
import { readPacket } from '../../src/protocol/decode.ts';
import { isProtocolError } from '../../src/protocol/errors.ts';
import type { Packet, PacketTypeName } from '../../src/protocol/index.ts';
import type { MoshiKind } from '../../src/protocol/moshi/index.ts';
import type { SessionManifest } from '../format/manifest.ts';
import { MoshiRows } from './moshi-packets.ts';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../format/layout.ts';

/** The wire protocol a session was recorded on (manifest meta.wire; older sessions have none: SolaceLive packets). */
export type WireProtocol = 'solacelive' | 'moshi';

export function wireOf(manifest: SessionManifest): WireProtocol {
  return manifest.meta.wire === 'moshi' ? 'moshi' : 'solacelive';
}

/** How a Moshi session's server cut the client's audio into steps (older sessions: pre-skip dropped; an unknown name: today's). */
export function inputFramingOf(manifest: SessionManifest): InputFraming {
  return recordedInputFraming(manifest.meta.wireInfo) ?? INPUT_FRAMING;
}

/** Types a message can hold, per protocol (the packet table's type filter). */
export const PACKET_TYPES: Readonly<Record<WireProtocol, readonly PacketInfo['type'][]>> = {
  solacelive: ['AUDIO_CHUNK', 'TEXT_PARTIAL', 'TEXT_FINAL', 'METADATA', 'HEARTBEAT', 'ACK'],
  moshi: ['audio', 'text', 'metadata', 'handshake', 'error', 'ping', 'control', 'coloredText', 'unknown'],
};

export interface PacketInfo {
  /** SolaceLive packet type, or Moshi message kind ('unknown': a kind byte outside the table). */
  readonly type: PacketTypeName | MoshiKind | 'unknown';
  /** SolaceLive sequence number and priority; null for Moshi messages (they have none). */
  readonly seq: number | null;
  readonly priority: number | null;
  /** Header + payload bytes. */
  readonly size: number;
  /** The step a TEXT_PARTIAL or METADATA gap names ({"step": N}), else null. */
  readonly step: number | null;
  /** Text, or METADATA's "type", shortened for a table cell. */
  readonly note: string;
}

/** One Ogg page that completed in a Moshi audio message. */
export interface OggPageInfo {
  readonly sequence: number;
  /** Granule position (48 kHz samples); null when no packet ends on the page. */
  readonly granule: number | null;
  /** Header + segment table + body bytes. */
  readonly size: number;
  /** Packets that end on the page. */
  readonly packets: number;
  readonly bos: boolean;
  readonly eos: boolean;
  /** The page's first packet began on an earlier page. */
  readonly continued: boolean;
  /** Bytes of the page that came in earlier messages (a page split across messages); 0 when it is whole here. */
  readonly carried: number;
  /** The Opus header packet it holds, else audio. */
  readonly content: 'OpusHead' | 'OpusTags' | 'audio';
  /** Opus audio ending on the page (from the packets' TOC bytes). */
  readonly audioMs: number;
}

export interface PacketRow {
  /** Position in packets.bin (0-based). */
  readonly index: number;
  readonly direction: 0 | 1;
  readonly timeMs: number;
  /** WebSocket message bytes. */
  readonly size: number;
  readonly packets: readonly PacketInfo[];
  /** Moshi audio: the Ogg pages completed in this message (empty otherwise). */
  readonly pages: readonly OggPageInfo[];
  /** Moshi audio: bytes at the end of the message that begin a page completed by a later one. */
  readonly pendingBytes: number;
  /**
   * Step frames: client → server, the input frames this message completes (the k-th frame
   * of the session is step k); server → client, the step replies with audio it carries.
   */
  readonly frames: number;
  /** Audio time carried (SolaceLive: 80 ms per AUDIO_CHUNK; Moshi: Opus packets ending here). */
  readonly audioMs: number;
  /** Server → client text pieces that name no step (Moshi): the j-th is the j-th step with a piece. */
  readonly texts: number;
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

const FRAME_MS = (FRAME_SAMPLES / SAMPLE_RATE) * 1000;

/** One SolaceLive-protocol message (stateless: every message stands alone). */
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
  const frames = packets.filter((p) => p.type === 'AUDIO_CHUNK').length;
  return { index, direction, timeMs, size: bytes.length, packets, pages: [], pendingBytes: 0, frames, audioMs: frames * FRAME_MS, texts: 0, error };
}

/** Turns a session's packets.bin records into rows, in order (Moshi's Ogg streams run across messages). */
export type PacketRowReader = (index: number, direction: 0 | 1, timeMs: number, bytes: Uint8Array) => PacketRow;

export function packetRowReader(wire: WireProtocol, framing: InputFraming = INPUT_FRAMING): PacketRowReader {
  if (wire === 'solacelive') return packetRow;
  const moshi = new MoshiRows(framing);
  return (index, direction, timeMs, bytes) => moshi.row(index, direction, timeMs, bytes);
}

/** A page as a table cell: sequence, granule, bytes, packets, flags. */
export function describePage(p: OggPageInfo): string {
  const flags = [p.bos && 'BOS', p.eos && 'EOS', p.continued && 'cont', p.content !== 'audio' && p.content].filter(Boolean).join(' ');
  return `page #${p.sequence} g=${p.granule ?? '-1'} ${p.size} B ${p.packets} pk${flags ? ` ${flags}` : ''}${p.carried ? ` (${p.carried} B earlier)` : ''}`;
}

/** A row's contents as text (the table's cell and its text filter). */
export function describeRow(r: PacketRow): string {
  const parts = r.packets.map((p) => `${p.type}${p.seq === null ? '' : ` #${p.seq}`}${p.note ? ` ${p.note}` : ''}`);
  parts.push(...r.pages.map(describePage));
  if (r.pendingBytes) parts.push(`+${r.pendingBytes} B of a later page`);
  return `${parts.join(' · ')}${r.error ? ` ⚠ ${r.error}` : ''}`;
}
