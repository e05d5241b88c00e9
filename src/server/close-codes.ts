// WebSocket close codes the server uses (RFC 6455 §7.4.1), in one table so clients and
// tests can name them. Protocol errors use the code their ProtocolError carries (1002/1007).

export const CLOSE = {
  /** The session ended as asked ('end' message). */
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  INVALID_PAYLOAD: 1007,
  /** A limit was broken: input rate, input queue, slow consumer, dead peer, timeouts, too many errors. */
  POLICY: 1008,
  /** A message above maxMessageBytes (sent by ws itself, without a reason). */
  TOO_BIG: 1009,
  /** The engine failed a step in a way the session cannot survive. */
  INTERNAL: 1011,
  /** No capacity or no engine right now: the client may reconnect later. */
  TRY_AGAIN_LATER: 1013,
} as const;

/** Close reasons are limited to 123 bytes of UTF-8; cut at a character boundary. */
export function closeReason(text: string): string {
  const enc = new TextEncoder();
  if (enc.encode(text).length <= 123) return text;
  let s = text;
  while (enc.encode(`${s}…`).length > 123) s = s.slice(0, -1);
  // Never end on a lone high surrogate.
  if (/[\uD800-\uDBFF]$/.test(s)) s = s.slice(0, -1);
  return `${s}…`;
}
