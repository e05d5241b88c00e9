// The session messages the live page exchanges with `solacelive serve`: the server's own
// definitions (src/server/messages.ts, browser-safe: type-only dependencies, no Node APIs;
// the lint zone lets viewer code import that one file of src/server), so the page and the
// server cannot drift apart. Plus what only the page needs.
import type { ErrorCode } from '../../src/server/messages.ts';

export {
  SESSION_PROTOCOL, asServerMessage, parseTextFinal, parseTextPartial,
} from '../../src/server/messages.ts';
export type {
  EndMessage, EndedMessage, ErrorMessage, EventsMessage, GapMessage, ReadyMessage, RecordingMessage, ServerMessage,
  StartMessage, TextFinal, TextPartial,
} from '../../src/server/messages.ts';

/**
 * Error codes that mean the server cannot run a model now (no weights, engine down or
 * restarting): the page shows them as the server being degraded, not as its own failure.
 */
export const DEGRADED_CODES: ReadonlySet<string> = new Set<ErrorCode>(['ENGINE_UNAVAILABLE', 'ENGINE_RESTARTED']);
