// `solacelive loadtest`: N real-time clients against any Moshi server (or SolaceLive's packet
// protocol), measured as the proxy measures, and the capacity search.
export { LoadtestError } from './errors.ts';
export type { LoadtestErrorCode } from './errors.ts';
export { parseTarget, probe, PROTOCOLS } from './target.ts';
export type { LoadProtocol, Target } from './target.ts';
export { DEFAULT_INPUT, sessionInputs, wavInput } from './input.ts';
export type { ClientInput } from './input.ts';
export { isRefusal, runClient } from './client.ts';
export type { ClientReport } from './client.ts';
export { levelBoundMs, levelFigures, runLevel, verdict } from './level.ts';
export type { LevelFigures, LevelOptions, LevelResult } from './level.ts';
export { findCapacity } from './capacity.ts';
export type { CapacityResult } from './capacity.ts';
export { clientTable, levelLine, levelSummary } from './table.ts';
export { healthUrl, readServerHealth, serverFigures, serverLine } from './server-health.ts';
export type { ServerFigures, ServerHealth } from './server-health.ts';
