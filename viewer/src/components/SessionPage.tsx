// One session: loads it (data/load.ts), then lays out the panels on one shared viewport.
// The timeline is up as soon as the steps are read; packets and audio peaks follow.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import type { SessionFiles } from '../../../harness/format/reader.ts';
import { wireOf, type PacketRow } from '../../../harness/view/packets.ts';
import type { LatestResults } from '../../../harness/view/results.ts';
import { lagMarks, measuredSession, parseProxyFile, type ProxyFile } from '../../../harness/view/proxied.ts';
import { sessionTrace } from '../../../harness/view/trace-input.ts';
import { loadPackets, loadPeaks, loadSession, type LoadedSession, type Peaks } from '../data/load.ts';
import { packetStepLines } from '../data/packet-steps.ts';
import { centreOn, clampView, type Viewport } from '../lib/viewport.ts';
import { LagLane } from './LagLane.tsx';
import { LagMarks } from './LagMarks.tsx';
import { MeasuredBanner } from './MeasuredBanner.tsx';
import { MeasuredSummary } from './MeasuredSummary.tsx';
import { PacketTable } from './PacketTable.tsx';
import { Problems } from './Problems.tsx';
import { ReplayPanel } from './ReplayPanel.tsx';
import { Summary } from './Summary.tsx';
import { Timeline } from './Timeline.tsx';
import { TextTimes } from './TextTimes.tsx';
import { TokenLane } from './TokenLane.tsx';
import { TurnTaking } from './TurnTaking.tsx';
import { Waveforms } from './Waveforms.tsx';

export interface SessionSource {
  readonly name: string;
  readonly files: SessionFiles;
  /** The newest saved replay and diff of the session. */
  readonly results: () => Promise<LatestResults>;
  /** proxy.json's text (a proxied or load-test session's figures), or null when there is none. */
  readonly figures: () => Promise<string | null>;
}

/** Steps in view when a session opens: all of a short one, the first minute of a long one. */
const INITIAL_SPAN = 750;

export function SessionPage({ source }: { source: SessionSource }) {
  const [s, setS] = useState<LoadedSession | null>(null);
  const [fatal, setFatal] = useState<{ code: string; message: string } | null>(null);
  const [packets, setPackets] = useState<{ rows: readonly PacketRow[]; loading: boolean; error: string | null }>({ rows: [], loading: true, error: null });
  const [peaks, setPeaks] = useState<{ input: Peaks | null | Error; output: Peaks | null | Error }>({ input: null, output: null });
  const [view, setView] = useState<Viewport>({ from: 0, to: 1 });
  const [selected, setSelected] = useState<number | null>(null);
  const [playhead, setPlayhead] = useState<number | null>(null);
  const [exporting, setExporting] = useState(false);
  const [figures, setFigures] = useState<{ file: ProxyFile | null; error: string | null }>({ file: null, error: null });
  const lane = useRef<HTMLDivElement>(null);
  const [laneWidth, setLaneWidth] = useState(800);

  useEffect(() => {
    let live = true;
    let shown = false;
    const show = (loaded: LoadedSession) => {
      if (!live) return;
      // Synchronously: the loader waits for the next frame after a partial session and then
      // parses on, so the first part must be rendered (and drawn, in Timeline's effect) by then.
      flushSync(() => {
        setS(loaded);
        // The first view is set once (the first part of a long session); later parts keep it.
        if (!shown) setView(clampView({ from: 0, to: Math.min(loaded.steps.length, INITIAL_SPAN) }, loaded.steps.length));
      });
      shown = true;
    };
    loadSession(source.name, source.files, source.results, show).then(show, (err: { code?: string; message?: string }) => live && setFatal({ code: err.code ?? 'ERROR', message: err.message ?? String(err) }));
    return () => {
      live = false;
    };
  }, [source]);

  // Background loads once the timeline is on screen (after the next frame): decoding
  // hundreds of MB of packets runs on this thread, and must not hold back the first paint.
  // Only once every step is in: until then parsing steps.jsonl has the thread.
  const reader = s?.complete ? s.reader : null;
  useEffect(() => {
    if (!reader) return;
    let live = true;
    let start: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => (start = setTimeout(() => {
      void loadPackets(reader, (rows) => live && setPackets({ rows: [...rows], loading: true, error: null })).then(({ rows, error }) => {
        if (live) setPackets({ rows, loading: false, error: error && `${error.code}: ${error.message}` });
      });
      for (const which of ['input', 'output'] as const) {
        void loadPeaks(reader, which).then((p) => live && setPeaks((o) => ({ ...o, [which]: p })), (err: Error) => live && setPeaks((o) => ({ ...o, [which]: err })));
      }
    }, 0)));
    return () => {
      live = false;
      cancelAnimationFrame(frame);
      clearTimeout(start);
    };
  }, [reader]);

  // A session measured from outside the server: its figures are proxy.json, beside the session files.
  const measured = useMemo(() => (s ? measuredSession(s.manifest) : null), [s?.manifest]);
  useEffect(() => {
    if (!measured) return;
    let live = true;
    source.figures().then((text) => (text === null ? null : parseProxyFile(text))).then(
      (file) => live && setFigures(file === null ? { file: null, error: 'proxy.json is missing: the lag, stalls and turn-taking figures are not in this session' } : { file, error: null }),
      (err: { code?: string; message?: string }) => live && setFigures({ file: null, error: `${err.code ? `${err.code}: ` : ''}${err.message ?? String(err)}` }),
    );
    return () => {
      live = false;
    };
  }, [measured, source]);
  const marks = useMemo(() => (figures.file ? lagMarks(figures.file.figures, s?.steps.length ?? 0) : null), [figures.file, s?.steps.length]);

  useEffect(() => {
    const el = lane.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setLaneWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, [s]);

  const total = s?.steps.length ?? 0;
  const onView = useCallback((v: Viewport) => setView(clampView(v, total)), [total]);
  const select = useCallback((i: number) => {
    setSelected(i);
    setView((v) => (i < v.from || i >= v.to ? centreOn(v, i, total) : v));
  }, [total]);
  const stepLines = useMemo(() => (s ? packetStepLines(packets.rows, s.steps) : new Int32Array(0)), [packets.rows, s]);

  if (fatal) {
    return <div className="problems fatal" data-testid="fatal"><b>{source.name} cannot be opened</b><div>{fatal.code}: {fatal.message}</div></div>;
  }
  if (!s) return <div className="loading">loading {source.name}…</div>;

  const lineOfStep = (step: number) => s.steps.findIndex((x) => x.step === step);
  // The timeline marks the replay's divergence; with no replay, the last diff's.
  const divergedStep = s.results.replay?.comparison.at?.step ?? s.results.diff?.comparison.at?.step ?? null;
  const diverged = divergedStep === null ? null : lineOfStep(divergedStep);
  const exportTrace = async () => {
    setExporting(true);
    try {
      // The export needs every packet: read them here if the table is still loading.
      const rows = packets.loading ? (await loadPackets(s.reader, () => {})).rows : packets.rows;
      const trace = sessionTrace(s.name, s.manifest, s.steps, rows, figures.file?.figures ?? null);
      const url = URL.createObjectURL(new Blob([JSON.stringify(trace)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${s.name.replace(/\.session$/, '').replace(/[^A-Za-z0-9._-]+/g, '_')}.trace.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } finally {
      setExporting(false);
    }
  };
  const wavErrors = (['input', 'output'] as const).flatMap((w) => (peaks[w] instanceof Error ? [`${w}.wav: ${(peaks[w] as Error).message}`] : []));

  const head = measured
    ? `${measured.kind} · ${measured.upstream} · ${s.complete ? `${s.steps.length} client frames · ${(s.stats.audioMs / 1000).toFixed(1)} s · read in ${s.loadMs.toFixed(0)} ms` : `reading… the first ${s.steps.length} frames are shown`}`
    : `${s.manifest.model.id} · ${s.complete ? `${s.steps.length} steps · ${(s.stats.audioMs / 1000).toFixed(1)} s · ${s.stats.budgetMisses} misses · read in ${s.loadMs.toFixed(0)} ms` : `reading steps… the first ${s.steps.length} are shown`}`;
  const packetTable = <PacketTable wire={wireOf(s.manifest)} rows={packets.rows} stepLines={stepLines} loading={packets.loading} error={packets.error} view={view} selected={selected} onSelect={select} />;
  const waveforms = <Waveforms reader={s.reader} input={peaks.input} output={peaks.output} view={view} selected={selected} playhead={playhead} onPlayhead={setPlayhead}
    {...(measured ? { names: { input: 'input (client, as it sent it)', output: 'output (server, reply to each frame)' } } : {})} />;
  const viewbar = (unit: string) => (
    <div className="viewbar">
      <span>view: {unit} {Math.floor(view.from)}–{Math.ceil(view.to) - 1} of {total}</span>
      <button onClick={() => setView(clampView({ from: 0, to: total }, total))}>show all</button>
      {selected !== null && <span>selected {unit === 'steps' ? 'step' : 'frame'} {s.steps[selected]?.step}</span>}
    </div>
  );

  return (
    <div className="session" data-testid="session-page" data-steps={s.steps.length} data-complete={s.complete ? 'yes' : 'no'} data-load-ms={s.loadMs.toFixed(0)} data-measured={measured?.kind ?? ''}>
      <header className="session-head">
        <h2>{s.name}</h2>
        <span className="muted">{head}</span>
        <button data-testid="export-trace" onClick={() => void exportTrace()} disabled={exporting || !s.complete || (measured !== null && !figures.file)}
          title={measured && !figures.file ? `a ${measured.kind} session's trace is drawn from its figures: ${figures.error ?? 'proxy.json is still loading'}` : 'Chrome Trace Event JSON: open it in ui.perfetto.dev'}>{exporting ? 'exporting…' : 'Export for Perfetto'}</button>
      </header>
      <Problems s={s} packetsError={packets.error} wavErrors={wavErrors} />
      {/* A measured session has no model to replay offline: the panel only when a (paced) result exists. */}
      {(!measured || s.results.replay || s.results.diff) && <ReplayPanel replay={s.results.replay} diff={s.results.diff} onShow={(step) => { const i = lineOfStep(step); if (i >= 0) select(i); }} />}
      {measured ? <>
        {/* No engine spans, tokens or budget: the lag lane, markers and turn-taking take their place. */}
        <MeasuredBanner m={measured} figuresError={figures.error} />
        {viewbar('frames')}
        {figures.file && <LagLane file={figures.file} total={total} view={view} onView={onView} selected={selected} onSelect={select} playhead={playhead} />}
        {waveforms}
        {figures.file && marks && <>
          <h3>Stalls, client timeouts and the close</h3>
          <LagMarks marks={marks} frames={total} onSelect={select} />
          <h3>Turn-taking</h3>
          <TurnTaking t={figures.file.figures.turns} />
          <h3>Text</h3>
          <TextTimes text={figures.file.figures.text} pieces={marks.texts} frames={total} onSelect={select} />
        </>}
        <h3>Packets</h3>
        {packetTable}
        <h3>Summary</h3>
        <MeasuredSummary m={measured} f={figures.file?.figures ?? null} manifest={s.manifest} />
      </> : <>
        {viewbar('steps')}
        <Timeline steps={s.steps} budgetMs={s.stats.budgetMs} view={view} onView={onView} selected={selected} onSelect={select} diverged={diverged} playhead={playhead} />
        {waveforms}
        <div ref={lane}><TokenLane steps={s.steps} view={view} width={laneWidth} selected={selected} onSelect={select} /></div>
        <h3>Packets</h3>
        {packetTable}
        <h3>Summary</h3>
        {s.complete ? <Summary stats={s.stats} manifest={s.manifest} /> : <p className="muted">The summary follows once every step is read.</p>}
      </>}
    </div>
  );
}
