// Input and output audio under the timeline, on the same viewport (WAV frame i is step
// line i), from per-frame peaks loaded in the background; play/pause from the selected step
// (or the view's start) through Web Audio, reading only the samples it plays.
import { useEffect, useRef, useState } from 'react';
import type { SessionReader } from '../../../harness/format/reader.ts';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../../harness/format/layout.ts';
import type { Peaks } from '../data/load.ts';
import { prepareCanvas } from '../lib/canvas.ts';
import { PLAYHEAD_COLOR, SELECT_COLOR } from '../lib/colors.ts';
import type { Viewport } from '../lib/viewport.ts';

const LANE = 56;
/** Longest stretch read per play (the rest of the session plays after another click). */
const MAX_PLAY_S = 120;

function Lane({ label, title, peaks, view, selected, playhead, color }: { label: string; title: string; peaks: Peaks | null | Error; view: Viewport; selected: number | null; playhead: number | null; color: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const el = canvas.current!;
    const width = Math.max(200, el.clientWidth);
    const g = prepareCanvas(el, width, LANE, '#101216');
    g.fillStyle = '#9aa0a6';
    g.font = '11px system-ui, sans-serif';
    g.fillText(title, 4, 12);
    if (!(peaks && !(peaks instanceof Error))) {
      g.fillText(peaks instanceof Error ? `cannot read: ${peaks.message}` : 'loading…', 8 + g.measureText(title).width, 12);
      return;
    }
    const span = view.to - view.from;
    const px = width / span;
    const mid = LANE / 2;
    let peak = 1e-6;
    for (let i = 0; i < peaks.frames; i++) peak = Math.max(peak, Math.abs(peaks.min[i]!), Math.abs(peaks.max[i]!));
    const scale = (LANE / 2 - 4) / peak;
    g.fillStyle = color;
    for (let x = 0; x < width; x++) {
      const a = Math.floor(view.from + x / px), b = Math.max(a + 1, Math.floor(view.from + (x + 1) / px));
      let lo = Infinity, hi = -Infinity;
      for (let i = Math.max(0, a); i < Math.min(b, peaks.frames); i++) {
        lo = Math.min(lo, peaks.min[i]!);
        hi = Math.max(hi, peaks.max[i]!);
      }
      if (hi >= lo) g.fillRect(x, mid - hi * scale, 1, Math.max(1, (hi - lo) * scale));
    }
    if (selected !== null) {
      g.fillStyle = SELECT_COLOR;
      g.fillRect((selected - view.from) * px, 0, Math.max(px, 2), LANE);
    }
    if (playhead !== null) {
      g.fillStyle = PLAYHEAD_COLOR;
      g.fillRect((playhead - view.from) * px - 1, 0, 2, LANE);
    }
  }, [title, peaks, view, selected, playhead, color]);
  return <canvas ref={canvas} className="wave" data-testid={`wave-${label}`} data-loaded={peaks instanceof Error ? 'error' : peaks ? 'yes' : 'no'} style={{ width: '100%', height: LANE }} />;
}

interface Props {
  readonly reader: SessionReader;
  readonly input: Peaks | null | Error;
  readonly output: Peaks | null | Error;
  readonly view: Viewport;
  readonly selected: number | null;
  readonly playhead: number | null;
  readonly onPlayhead: (i: number | null) => void;
  /** Who each track is (default: the engine's session: input from the client, output from the model). */
  readonly names?: { readonly input: string; readonly output: string };
}

const ENGINE_NAMES = { input: 'input (client)', output: 'output (model)' } as const;

export function Waveforms({ reader, input, output, view, selected, playhead, onPlayhead, names = ENGINE_NAMES }: Props) {
  const [which, setWhich] = useState<'input' | 'output'>('output');
  const [playing, setPlaying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const audio = useRef<{ ctx: AudioContext; src: AudioBufferSourceNode; raf: number; at: number } | null>(null);
  // Pause remembers where it stopped; play resumes there unless another step was selected since.
  const paused = useRef<{ at: number; selected: number | null } | null>(null);

  const stop = () => {
    const a = audio.current;
    audio.current = null;
    if (a) {
      cancelAnimationFrame(a.raf);
      a.src.onended = null;
      try {
        a.src.stop();
      } catch {
        // already ended
      }
      void a.ctx.close();
    }
    setPlaying(false);
  };
  useEffect(() => stop, []);

  const play = async () => {
    setError(null);
    try {
      const track = await reader.wav(which);
      const resume = paused.current !== null && paused.current.selected === selected ? paused.current.at : null;
      paused.current = null;
      const startFrame = resume ?? Math.floor(selected ?? view.from);
      const first = Math.floor(startFrame * FRAME_SAMPLES);
      const count = Math.min(track.samples - first, MAX_PLAY_S * SAMPLE_RATE);
      if (count <= 0) return;
      const samples = await track.readSamples(first, count);
      const ctx = new AudioContext({ sampleRate: SAMPLE_RATE });
      const buf = ctx.createBuffer(1, samples.length, SAMPLE_RATE);
      buf.getChannelData(0).set(samples);
      const src = ctx.createBufferSource();
      src.buffer = buf;
      src.connect(ctx.destination);
      const t0 = ctx.currentTime;
      src.start();
      const tick = () => {
        if (!audio.current) return;
        audio.current.at = startFrame + ((ctx.currentTime - t0) * SAMPLE_RATE) / FRAME_SAMPLES;
        onPlayhead(audio.current.at);
        audio.current.raf = requestAnimationFrame(tick);
      };
      audio.current = { ctx, src, raf: requestAnimationFrame(tick), at: startFrame };
      src.onended = () => {
        stop();
        onPlayhead(null);
      };
      setPlaying(true);
    } catch (err) {
      setError((err as Error).message);
      stop();
    }
  };

  return (
    <div className="waves">
      <div className="wave-controls">
        <button data-testid="play" onClick={() => {
          if (!playing) return void play();
          paused.current = audio.current && { at: audio.current.at, selected };
          stop();
        }}>{playing ? '❚❚ pause' : paused.current ? '▶ resume' : '▶ play'}</button>
        <select value={which} onChange={(e) => setWhich(e.target.value as 'input' | 'output')} disabled={playing}>
          <option value="output">{names.output}</option>
          <option value="input">{names.input}</option>
        </select>
        <span className="hint">{paused.current && paused.current.selected === selected ? `paused at step line ${Math.floor(paused.current.at)}` : `from ${selected !== null ? `selected step line ${selected}` : 'the left edge of the view'}`}</span>
        {error && <span className="error">{error}</span>}
      </div>
      <Lane label="input" title={names.input} peaks={input} view={view} selected={selected} playhead={playhead} color="#4ea8de" />
      <Lane label="output" title={names.output} peaks={output} view={view} selected={selected} playhead={playhead} color="#2a9d8f" />
    </div>
  );
}
