// The Node client library. Values and types apart.
export { SolaceClient, ClientError, describeClose } from './client.ts';
export { connect } from './connect.ts';
export { LatencyTracker } from './latency.ts';
export { Playout } from './playout.ts';
export type { ClientOptions, SessionResult } from './client.ts';
export type { LatencyReport } from './latency.ts';
