// The Packet union, keyed on `type`. Field ranges are those of the wire header.
import type { Priority } from './opcodes.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface PacketHeader {
  readonly priority: Priority;
  /** u32, per direction; wraps (see sequence.ts). */
  readonly sequence: number;
  /** Milliseconds on the sender's clock; finite. */
  readonly timestamp: number;
  readonly requiresAck: boolean;
}

export interface HeartbeatPacket extends PacketHeader { readonly type: 'HEARTBEAT'; }
export interface AckPacket extends PacketHeader { readonly type: 'ACK'; readonly ackSequence: number; }
export interface AudioChunkPacket extends PacketHeader {
  readonly type: 'AUDIO_CHUNK';
  /** Exactly 1920 finite samples at 24 kHz (80 ms). */
  readonly samples: Float32Array;
}
export interface TextPacket extends PacketHeader { readonly type: 'TEXT_PARTIAL' | 'TEXT_FINAL'; readonly text: string; }
export interface MetadataPacket extends PacketHeader { readonly type: 'METADATA'; readonly data: JsonValue; }

export type Packet = HeartbeatPacket | AckPacket | AudioChunkPacket | TextPacket | MetadataPacket;
