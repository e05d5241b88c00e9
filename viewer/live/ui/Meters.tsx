// The numbers: frames each way, per-step latency (frame sent → its audio back) against the
// 80 ms step budget, and the playback buffer (depth, underruns, missed audio).
import { BUDGET_MS } from '../latency.ts';
import type { LiveState } from '../session.ts';

const ms = (x: number | null) => (x === null ? '–' : `${x.toFixed(0)} ms`);

function Item({ label, id, value, warn = false, title }: { label: string; id: string; value: string | number; warn?: boolean; title?: string }) {
  return (
    <div className={`meter${warn ? ' warn' : ''}`} title={title}>
      <span className="label">{label}</span>
      <span className="value" data-testid={id}>{value}</span>
    </div>
  );
}

export function Meters({ s }: { s: LiveState }) {
  const pb = s.playback;
  const toMs = (samples: number) => (pb ? (samples / pb.sampleRate) * 1000 : 0);
  return (
    <div className="meters">
      <Item label="frames sent" id="frames-sent" value={s.framesSent} />
      <Item label="audio frames back" id="audio-frames" value={s.audioFrames} />
      <Item label="steps without audio" id="gaps" value={s.gaps} />
      <Item label="server steps (at end)" id="steps" value={s.steps ?? '–'} />
      <Item label="late/missing input frames" id="input-events" value={s.inputEvents} warn={s.inputEvents > 0} />
      <Item label="step latency (last)" id="latency-last" value={ms(s.latency.last)} warn={(s.latency.last ?? 0) > BUDGET_MS} />
      <Item label="p50 / p95 (last 10 s)" id="latency-p" value={`${ms(s.latency.p50)} / ${ms(s.latency.p95)}`} />
      <Item label={`over ${BUDGET_MS} ms`} id="latency-over" value={`${s.latency.overBudget} of ${s.latency.count}`} warn={s.latency.overBudget > 0} />
      <Item label="playback buffer" id="playback-buffer" value={pb ? `${toMs(pb.heldSamples).toFixed(0)} ms held, target ${toMs(pb.targetSamples).toFixed(0)} ms (${pb.state})` : '–'} />
      <Item label="played" id="playback-played" value={pb ? `${toMs(pb.playedSamples).toFixed(0)} ms` : '–'} />
      <Item label="underruns / missed audio" id="playback-missed" value={pb ? `${pb.underruns} / ${toMs(pb.missedSamples).toFixed(0)} ms` : '–'} warn={(pb?.underruns ?? 0) > 0} />
      <Item label="audio" id="audio-rate" value={s.audio ? `${s.audio.sampleRate} Hz${s.audio.resampling ? ' (resampled to/from 24 kHz)' : ''}` : '–'} title={s.audio?.device} />
    </div>
  );
}
