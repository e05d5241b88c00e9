// Server URL, protocol, the record toggle and Start/Stop. They apply to the next session:
// recording is asked for when the session starts, so it cannot change mid-session.
import { PROTOCOLS, type ProtocolName } from '../link.ts';
import { PROTOCOL_LABEL } from '../protocols.ts';
import type { RecordBox } from '../recording.ts';
import type { Phase } from '../session.ts';

export interface ControlsProps {
  readonly phase: Phase;
  readonly server: string;
  readonly protocol: ProtocolName;
  readonly onProtocol: (p: ProtocolName) => void;
  /** The box as shown: the user's choice, or the server's own recording while a session runs (recordBox). */
  readonly record: RecordBox;
  readonly onServer: (s: string) => void;
  readonly onRecord: (r: boolean) => void;
  readonly onStart: () => void;
  readonly onStop: () => void;
}

export function Controls(p: ControlsProps) {
  const busy = p.phase === 'connecting' || p.phase === 'live' || p.phase === 'ending';
  return (
    <div className="controls">
      <label>
        Server <input data-testid="server-url" value={p.server} disabled={busy} spellCheck={false} size={32} onChange={(e) => p.onServer(e.target.value)} />
      </label>
      <label title="SolaceLive packets: the server's own protocol, PCM frames in packets. Moshi: Kyutai's protocol at /api/chat (what its web client speaks), Ogg Opus audio.">
        Protocol{' '}
        <select data-testid="protocol" value={p.protocol} disabled={busy} onChange={(e) => p.onProtocol(e.target.value as ProtocolName)}>
          {PROTOCOLS.map((name) => <option key={name} value={name}>{PROTOCOL_LABEL[name]}</option>)}
        </select>
      </label>
      <label title={p.record.title}>
        <input type="checkbox" data-testid="record-toggle" checked={p.record.checked} disabled={busy} onChange={(e) => p.onRecord(e.target.checked)} /> {p.record.label}
      </label>
      {busy ? (
        <button data-testid="stop" onClick={p.onStop} disabled={p.phase === 'ending'}>Stop</button>
      ) : (
        <button data-testid="start" onClick={p.onStart}>Start</button>
      )}
      <span className={`phase ${p.phase}`} data-testid="phase">{p.phase}</span>
    </div>
  );
}
