// The live page: talk to `solacelive serve` (or another Moshi server) from the browser's
// microphone, over the SolaceLive packet protocol or the Moshi protocol.
import { useState, useSyncExternalStore } from 'react';
import { checkServerUrl, type LiveConfig } from './config.ts';
import { LiveError } from './errors.ts';
import type { ProtocolName } from './link.ts';
import { recordBox, recordingLabel } from './recording.ts';
import type { LiveSession } from './session.ts';
import { Banner } from './ui/Banner.tsx';
import { Controls } from './ui/Controls.tsx';
import { EventLog } from './ui/EventLog.tsx';
import { Help } from './ui/Help.tsx';
import { Meters } from './ui/Meters.tsx';
import { Transcript } from './ui/Transcript.tsx';

export function App({ config, session }: { config: LiveConfig; session: LiveSession }) {
  const s = useSyncExternalStore(session.subscribe, session.getSnapshot);
  const [server, setServer] = useState(config.server);
  const [record, setRecord] = useState(config.record);
  const [protocol, setProtocol] = useState<ProtocolName>(config.protocol);
  const [urlError, setUrlError] = useState<LiveError | null>(null);

  const start = () => {
    let url: string;
    try {
      url = checkServerUrl(server);
    } catch (err) {
      setUrlError(err as LiveError);
      return;
    }
    setUrlError(null);
    void session.start(config, url, record, protocol);
  };

  const rec = s.recording;
  return (
    <main>
      <header>
        <h1>SolaceLive — live</h1>
        {s.session && (
          <p className="session" data-testid="session">
            session <code data-testid="session-id">{s.session.id ?? '(not given)'}</code> · model {s.session.model} · seed {s.session.seed ?? '(not given)'}
            {s.session.untrained && <em> · untrained weights: its audio and text are noise, not speech</em>}
          </p>
        )}
      </header>
      {s.degraded && <Banner kind="degraded" problem={s.degraded} />}
      {(urlError || s.error) && <Banner kind="error" problem={urlError ? { title: urlError.title, detail: urlError.message } : s.error!} />}
      <Controls phase={s.phase} server={server} protocol={protocol} onProtocol={setProtocol} record={recordBox(record, rec, s.phase === 'connecting' || s.phase === 'live' || s.phase === 'ending')} onServer={setServer} onRecord={setRecord} onStart={start} onStop={() => session.stop()} />
      {rec && (
        <p className={`recording ${rec.state}`} data-testid="recording">
          {recordingLabel(rec, s.phase === 'ended', s.session?.id ?? null)}
          {rec.detail && ` — ${rec.detail}`}
        </p>
      )}
      <Meters s={s} />
      <Transcript partials={s.partials} count={s.partialCount} finalText={s.finalText} />
      <EventLog lines={s.log} />
      <Help protocol={s.protocol ?? protocol} />
    </main>
  );
}
