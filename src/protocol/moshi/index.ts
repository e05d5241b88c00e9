// Public surface of the Moshi WebSocket protocol (browser-safe).
export { MOSHI_KINDS, MOSHI_CONTROL, MoshiProtocolError, encodeMoshi, decodeMoshi } from './message.ts';
export type { MoshiKind, MoshiControl, MoshiMessage, MoshiErrorCode } from './message.ts';
