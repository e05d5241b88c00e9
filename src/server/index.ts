// The WebSocket + HTTP packet server. Values and types apart.
export { createServer, stopOnSignals } from './server.ts';
export { resolveServerOptions, isLoopbackHost, ServerOptionsError, SERVER_DEFAULTS, DEFAULT_HOST, DEFAULT_PORT, MIN_TOKEN_LENGTH } from './options.ts';
export { CLOSE, closeReason } from './close-codes.ts';
export { SendQueue, LANE_OF } from './send-queue.ts';
export { Outbox } from './outbox.ts';
export { Cadence } from './cadence.ts';
export { TokenBucket } from './rate-limit.ts';
export { parseStart, sessionOptions, readyMessage, weightsFingerprint } from './handshake.ts';
export { isAuthorized, requestToken } from './auth.ts';
export { healthReport, metricsText } from './http.ts';
export { TelemetryFeed, tapHooks, TELEMETRY_VERSION, TELEMETRY_MAX_HZ, TELEMETRY_DEFAULT_HZ } from './telemetry-stream.ts';
export { SESSION_PROTOCOL, asServerMessage, parseTextPartial, parseTextFinal } from './messages.ts';
export type { SolaceServer } from './server.ts';
export type { TelemetrySnapshot, SessionFigures, TelemetryEvent, TelemetryContext } from './telemetry-stream.ts';
export type { ServerOptions, ResolvedServerOptions, ServerOptionsErrorCode } from './options.ts';
export type { EnginePort } from './engine-port.ts';
export type { SessionHooks, SessionControl } from './hooks.ts';
export type { OutItem, QueueLimits, QueueDecision, PushResult, Taken } from './send-queue.ts';
export type { OutboxSocket, OutboxOptions, OutboxEvents } from './outbox.ts';
export type { Arrival, CadenceOptions } from './cadence.ts';
export type { StartRequest, StartResult } from './handshake.ts';
export type { SessionState, SessionSocket } from './session.ts';
export type {
  Pace, StartMessage, EndMessage, ClientMessage, ReadyMessage, ErrorMessage, ErrorCode, GapMessage, EventsMessage,
  EndedMessage, RecordingMessage, ServerMessage, SessionLimits, TextPartial, TextFinal,
} from './messages.ts';
