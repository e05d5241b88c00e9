// Timing figures of a Moshi connection, for the proxy and any client that measures as it does.
export { MoshiMeter, METER_DEFAULTS } from './meter.ts';
export type { ConnectionEvent, ConnectionFigures, MeterOptions, Side, StreamTally } from './meter.ts';
export { OpusTap } from './opus-tap.ts';
export type { TimedFrame } from './opus-tap.ts';
export { growthOf, percentiles, slopePerMinute } from './stats.ts';
export type { Percentiles } from './stats.ts';
export { turnTaking } from './turns.ts';
export type { BargeIn, TurnFigures } from './turns.ts';
export { detectSpeech, StreamingVad, VAD_DEFAULTS } from './vad.ts';
export type { Segment, VadOptions } from './vad.ts';
export { summaryLines } from './summary.ts';
export { clientTimeoutsOf, lateFrames, stallsOf } from './gaps.ts';
export type { ClientTimeout, Stall } from './gaps.ts';
