// The one table of packet types and their wire bytes (wire format v1, design.md).
// Every encoder, decoder, test and viewer goes through this table: upstream clients
// drifted when opcodes were written inline in several places.

export const PROTOCOL_VERSION = 1;

export const PACKET_TYPES = {
  HEARTBEAT: 0x01,
  ACK: 0x02,
  AUDIO_CHUNK: 0x10,
  TEXT_PARTIAL: 0x20,
  TEXT_FINAL: 0x21,
  METADATA: 0x30,
} as const;

export type PacketTypeName = keyof typeof PACKET_TYPES;
export type PacketTypeByte = (typeof PACKET_TYPES)[PacketTypeName];

const BY_BYTE: ReadonlyMap<number, PacketTypeName> = new Map(
  (Object.entries(PACKET_TYPES) as [PacketTypeName, number][]).map(([name, byte]) => [byte, name]),
);

export function packetTypeName(byte: number): PacketTypeName | undefined {
  return BY_BYTE.get(byte);
}

export const PACKET_TYPE_NAMES: readonly PacketTypeName[] = Object.keys(PACKET_TYPES) as PacketTypeName[];

/** 0 critical … 3 low. */
export type Priority = 0 | 1 | 2 | 3;
export const MAX_PRIORITY = 3;

// Header layout: type u8 @0, priority u8 @1, sequence u32 @2, timestamp f64 @6,
// length u16 @14, requiresAck u8 @16; all little-endian.
export const HEADER_BYTES = 17;
export const OFFSET_TYPE = 0;
export const OFFSET_PRIORITY = 1;
export const OFFSET_SEQUENCE = 2;
export const OFFSET_TIMESTAMP = 6;
export const OFFSET_LENGTH = 14;
export const OFFSET_ACK = 16;

export const MAX_PAYLOAD_BYTES = 0xffff;

/** 80 ms at 24 kHz. */
export const AUDIO_SAMPLES = 1920;
export const AUDIO_PAYLOAD_BYTES = AUDIO_SAMPLES * 4;
/** ACK payload: the acknowledged packet's sequence number, u32le. */
export const ACK_PAYLOAD_BYTES = 4;
