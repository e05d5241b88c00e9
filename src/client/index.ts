// The Node client library. Values and types apart.
export { connect, SolaceClient, ClientError, describeClose } from './client.ts';
export { LatencyTracker } from './latency.ts';
export type { ClientOptions, SessionResult } from './client.ts';
export type { LatencyReport } from './latency.ts';
