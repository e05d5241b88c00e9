// Public surface of the packet protocol (browser-safe: no Node-only APIs).
export {
  PROTOCOL_VERSION, PACKET_TYPES, PACKET_TYPE_NAMES, packetTypeName, HEADER_BYTES, MAX_PAYLOAD_BYTES, MAX_PRIORITY,
  AUDIO_SAMPLES, AUDIO_PAYLOAD_BYTES, ACK_PAYLOAD_BYTES,
} from './opcodes.ts';
export type { PacketTypeName, PacketTypeByte, Priority } from './opcodes.ts';
export type { Packet, PacketHeader, HeartbeatPacket, AckPacket, AudioChunkPacket, TextPacket, MetadataPacket, JsonValue } from './packet.ts';
export { ProtocolError, isProtocolError, CLOSE_PROTOCOL_ERROR, CLOSE_INVALID_PAYLOAD } from './errors.ts';
export type { ProtocolErrorCode, ProtocolErrorDetails } from './errors.ts';
export { encodePacket, encodeMessage } from './encode.ts';
export { decodePacket, decodeMessage, decodeMessageSafe, readPacket } from './decode.ts';
export type { ReadResult, MessageResult } from './decode.ts';
export { seqNext, seqAdd, seqDiff, seqLessThan, compareSeq } from './sequence.ts';
