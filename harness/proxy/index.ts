// The recording Moshi proxy (`solacelive proxy`).
export { MoshiProxy, ProxyError, PROXY_DEFAULTS, parseUpstream, startProxy } from './proxy.ts';
export type { ConnectionReport, ProxyOptions } from './proxy.ts';
export { ProxyRecording } from './recording.ts';
export type { ProxyFile } from './recording.ts';
