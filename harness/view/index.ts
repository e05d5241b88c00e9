// The view server and what it shares with the viewer. Node: server, build, replays;
// browser-safe: stats.ts and replay-result.ts (the viewer imports those files directly).
export { startViewServer, checkViewAccess, DEFAULT_VIEW_HOST, DEFAULT_VIEW_PORT, VIEWER_DIST } from './server.ts';
export type { ViewServer, ViewServerOptions } from './server.ts';
export { listSessions, summarizeSession } from './sessions.ts';
export type { SessionListEntry } from './sessions.ts';
export { ensureViewerBuilt, viewerIsStale } from './build.ts';
export { saveReplayResult, latestReplayResult, latestResults, REPLAYS_DIR } from './replays.ts';
export { summarizeResult, newestResults, isReplayKind } from './results.ts';
export type { ResultSummary, LatestResults } from './results.ts';
export type { ReplayResult } from './replay-result.ts';
