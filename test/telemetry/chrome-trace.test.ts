// The Chrome-trace export: the fixture session's trace checked against the Trace Event
// Format (required fields per phase, JSON Object Format, complete slices nesting on each
// thread — here stricter: never overlapping — flow events binding to slices) and against
// the session itself (one track per stage, a slice per recorded span, counters, flows).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibopusNode, MOSHI_CLIENT_SHAPE, OggOpusEncoder } from '../../src/audio/index.ts';
import { openSession, type ReadStep } from '../../harness/format/node.ts';
import { inputFramingOf, packetRow, packetRowReader, wireOf, type PacketRow } from '../../harness/view/packets.ts';
import { traceInput } from '../../harness/view/trace-input.ts';
import { recordMoshiSession, type MoshiSession } from '../viewer/moshi-session.ts';
import { ENGINE_STEP_TRACK, sessionToChromeTrace, TRACE_STAGES, type ChromeTrace, type TraceEvent } from '../../src/telemetry/chrome-trace.ts';
import { endToEndMs } from '../../src/telemetry/spans.ts';
import { connectMoshi } from '../../src/client/moshi.ts';
import { startProxy, type ConnectionReport, type MoshiProxy } from '../../harness/proxy/index.ts';
import { startTestUpstream, type TestUpstream } from '../harness/proxy/moshi-upstream.ts';
import { testFrames } from '../server/live/engine.ts';

const FIXTURE = new URL('../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const PHASES = new Set(['X', 'C', 'i', 's', 't', 'f', 'M', 'B', 'E', 'b', 'e', 'n', 'I']);

/** Problems with a trace per the Trace Event Format spec; empty when it is valid. */
function formatProblems(trace: unknown): string[] {
  const out: string[] = [];
  const t = trace as Partial<ChromeTrace>;
  if (typeof trace !== 'object' || trace === null || !Array.isArray(t.traceEvents)) return ['not a JSON Object Format trace (no traceEvents array)'];
  if (t.displayTimeUnit !== undefined && t.displayTimeUnit !== 'ms' && t.displayTimeUnit !== 'ns') out.push(`displayTimeUnit ${String(t.displayTimeUnit)}`);
  const slices = new Map<string, { ts: number; end: number; name: string }[]>();
  const flows = new Map<number, TraceEvent[]>();
  t.traceEvents.forEach((e, i) => {
    const at = `event ${i} (${e.name}/${e.ph})`;
    if (typeof e.name !== 'string') out.push(`${at}: name`);
    if (!PHASES.has(e.ph)) out.push(`${at}: unknown ph`);
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) out.push(`${at}: pid/tid must be integers`);
    // The format lets metadata events omit ts; strict readers (some Perfetto and Catapult
    // importers) drop or reject events without one, so every event must carry it.
    if (!(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0)) out.push(`${at}: ts must be a finite number >= 0`);
    if (typeof e.ph !== 'string' || e.ph.length !== 1) out.push(`${at}: ph must be one character`);
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null)) out.push(`${at}: args must be an object`);
    switch (e.ph) {
      case 'X':
        if (!(typeof e.dur === 'number' && e.dur >= 0)) out.push(`${at}: X needs dur >= 0`);
        else {
          const k = `${e.pid}/${e.tid}`;
          if (!slices.has(k)) slices.set(k, []);
          slices.get(k)!.push({ ts: e.ts!, end: e.ts! + e.dur, name: e.name });
        }
        break;
      case 'C':
        if (!e.args || Object.values(e.args).some((v) => typeof v !== 'number' || !Number.isFinite(v))) out.push(`${at}: counter args must be numbers`);
        break;
      case 'i':
        if (e.s !== undefined && !['g', 'p', 't'].includes(e.s)) out.push(`${at}: instant scope`);
        break;
      case 's': case 't': case 'f':
        if (e.id === undefined || typeof e.cat !== 'string') out.push(`${at}: flow needs id and cat`);
        else {
          if (!flows.has(e.id)) flows.set(e.id, []);
          flows.get(e.id)!.push(e);
        }
        break;
      case 'M':
        if (['process_name', 'thread_name'].includes(e.name) && typeof e.args?.name !== 'string') out.push(`${at}: metadata needs args.name`);
        break;
    }
  });
  for (const [k, list] of slices) {
    list.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.ts < list[i - 1]!.end) out.push(`thread ${k}: ${list[i]!.name} at ${list[i]!.ts} overlaps ${list[i - 1]!.name} ending ${list[i - 1]!.end}`);
    }
  }
  const encloses = (e: TraceEvent) => (slices.get(`${e.pid}/${e.tid}`) ?? []).some((s) => s.ts <= e.ts! && e.ts! <= s.end);
  for (const [id, list] of flows) {
    const phs = list.map((e) => e.ph).join('');
    if (!/^st*f$/.test(phs)) out.push(`flow ${id}: phases ${phs}, expected s, t…, f`);
    for (let i = 1; i < list.length; i++) if (list[i]!.ts! < list[i - 1]!.ts!) out.push(`flow ${id}: goes back in time`);
    for (const e of list) if (!encloses(e)) out.push(`flow ${id} ${e.ph}: no slice on its thread at ${e.ts}`);
  }
  return out;
}

async function fixtureTrace(): Promise<{ trace: ChromeTrace; steps: ReadStep[]; packets: PacketRow[] }> {
  const r = await openSession(FIXTURE);
  const steps: ReadStep[] = [];
  for await (const s of r.steps()) steps.push(s);
  const packets: PacketRow[] = [];
  for await (const p of r.packets()) packets.push(packetRow(packets.length, p.direction, p.timeMs, p.bytes));
  return { trace: sessionToChromeTrace(traceInput('hello-2s', r.manifest, steps, packets)), steps, packets };
}

function threadNames(trace: ChromeTrace): Map<number, string> {
  return new Map(trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, e.args!.name as string]));
}

describe('Chrome trace export of the fixture session', () => {
  it('follows the Trace Event Format', async () => {
    const { trace } = await fixtureTrace();
    expect(formatProblems(JSON.parse(JSON.stringify(trace)))).toEqual([]);
  });

  it('the validator catches overlapping slices and broken flows', () => {
    const bad = { traceEvents: [
      { name: 'a', ph: 'X', pid: 1, tid: 1, ts: 0, dur: 10 },
      { name: 'b', ph: 'X', pid: 1, tid: 1, ts: 5, dur: 10 },
      { name: 'f', ph: 's', cat: 'flow', id: 1, pid: 1, tid: 2, ts: 0 },
      { name: 'c', ph: 'C', pid: 1, tid: 0, ts: 0, args: { v: 'x' } },
    ] };
    const p = formatProblems(bad);
    expect(p.some((x) => x.includes('overlaps'))).toBe(true);
    expect(p.some((x) => x.includes('flow 1'))).toBe(true);
    expect(p.some((x) => x.includes('counter'))).toBe(true);
    const strict = formatProblems({ traceEvents: [
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 't' } },
      { name: 'x', ph: 'X', pid: '1', tid: 1, ts: 0, dur: 1 },
    ] });
    expect(strict).toEqual(['event 0 (thread_name/M): ts must be a finite number >= 0', 'event 1 (x/X): pid/tid must be integers']);
  });

  it('gives every event, metadata included, a ts and integer pid/tid (what strict readers require)', async () => {
    const { trace } = await fixtureTrace();
    const meta = trace.traceEvents.filter((e) => e.ph === 'M');
    expect(meta.length).toBeGreaterThan(0);
    expect(meta.every((e) => e.ts === 0)).toBe(true);
    expect(trace.traceEvents.filter((e) => !(Number.isFinite(e.ts) && Number.isInteger(e.pid) && Number.isInteger(e.tid)))).toEqual([]);
  });

  it('shifts a trace whose reconstructed slices start before time 0, keeping their spacing, and says by how much', () => {
    // A step that came back at 10 ms after 50 ms of engine work and 5 ms of queue wait: its slices start at −45 ms.
    const trace = sessionToChromeTrace({ name: 'early', packets: [{ direction: 1, timeMs: 20, size: 10, types: ['TEXT'], frames: 0, audioMs: 0 }], steps: [
      { step: 0, timeMs: 10, spans: { 'queue.wait': 5, 'mimi.encode': 50, 'step.total': 50 }, events: [], hasAudio: false },
    ] });
    expect(formatProblems(JSON.parse(JSON.stringify(trace)))).toEqual([]);
    expect(trace.otherData.tsShiftUs).toBe(45_000);
    const at = (name: string) => trace.traceEvents.find((e) => e.name === name)!.ts;
    expect(at('queue.wait')).toBe(0);
    expect(at('step 0')).toBe(5_000);
    expect(at('TEXT')).toBe(65_000);
  });

  it('has one track per stage, holding that stage\'s slices only, one per recorded span', async () => {
    const { trace, steps } = await fixtureTrace();
    const names = threadNames(trace);
    const slices = trace.traceEvents.filter((e) => e.ph === 'X');
    for (const stage of TRACE_STAGES) {
      const tracks = [...names].filter(([, n]) => n === stage || n.startsWith(`${stage} `)).map(([tid]) => tid);
      expect([...names.values()], stage).toContain(stage);
      const mine = slices.filter((e) => e.name === stage);
      expect(mine.length, stage).toBe(steps.filter((s) => s.spans[stage] !== undefined).length);
      expect(mine.every((e) => tracks.includes(e.tid)), `${stage} slices stay on ${stage} tracks`).toBe(true);
      expect(slices.filter((e) => tracks.includes(e.tid)).every((e) => e.name === stage)).toBe(true);
      // Durations are the recorded ones (µs, rounded).
      const recorded = steps.filter((s) => s.spans[stage] !== undefined).map((s) => Math.round(s.spans[stage]! * 1000));
      expect(mine.map((e) => e.dur).sort((a, b) => a! - b!)).toEqual(recorded.sort((a, b) => a - b));
    }
    const engine = [...names].find(([, n]) => n === ENGINE_STEP_TRACK)![0];
    const stepSlices = slices.filter((e) => e.tid === engine);
    expect(stepSlices.length).toBe(steps.length);
    // Misses are end to end (frame in → reply out), as the server counts them.
    const misses = steps.filter((s) => endToEndMs(s.spans)! > 80).length;
    expect(misses).toBeGreaterThan(0);
    expect(stepSlices.filter((e) => e.args?.miss === true).length).toBe(misses);
    expect(trace.traceEvents.filter((e) => e.ph === 'i' && e.name === 'budget miss').length).toBe(misses);
  });

  it('has queue-depth and jitter counters and a flow packet → step → reply per step', async () => {
    const { trace, steps, packets } = await fixtureTrace();
    const counters = new Set(trace.traceEvents.filter((e) => e.ph === 'C').map((e) => e.name));
    expect([...counters].sort()).toEqual(['jitter in (ms)', 'jitter out (ms)', 'queue depth (frames)']);
    const inAudio = packets.filter((p) => p.direction === 0).flatMap((p) => p.packets).filter((p) => p.type === 'AUDIO_CHUNK').length;
    const depth = trace.traceEvents.filter((e) => e.name === 'queue depth (frames)');
    expect(depth.length).toBe(inAudio + steps.length);
    expect(depth.at(-1)!.args!.frames).toBe(Math.max(0, inAudio - steps.length));
    const flows = trace.traceEvents.filter((e) => e.cat === 'flow');
    const ids = new Set(flows.map((e) => e.id));
    expect(ids.size).toBe(steps.length);
    const names = threadNames(trace);
    // Steps with output audio end their flow on the server's packet track.
    const withAudio = steps.filter((s) => s.pcmHash !== null).length;
    expect(flows.filter((e) => e.ph === 'f' && names.get(e.tid)!.startsWith('packets server')).length).toBe(withAudio);
    expect(flows.filter((e) => e.ph === 's' && names.get(e.tid)!.startsWith('packets client')).length).toBe(steps.length);
  });

  it('solacelive export-trace writes the same trace and says where to open it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    try {
      const out = join(dir, 'trace.json');
      const bin = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;
      const r = spawnSync(process.execPath, [bin, 'export-trace', FIXTURE, '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('ui.perfetto.dev');
      const written = JSON.parse(readFileSync(out, 'utf8')) as ChromeTrace;
      expect(formatProblems(written)).toEqual([]);
      const { trace } = await fixtureTrace();
      expect(written.traceEvents.length).toBe(trace.traceEvents.length);
      const usage = spawnSync(process.execPath, [bin, 'export-trace', FIXTURE], { encoding: 'utf8' });
      expect(usage.status).toBe(2);
      expect(usage.stderr).toContain('--out');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A session recorded on the Moshi protocol: its messages are Moshi kinds with Ogg Opus audio,
// not SolaceLive packets; the trace still has both packet tracks, the jitter and queue
// counters, and a flow per step from the client message that completed its frame to the
// server message that carried its reply.
describe('Chrome trace export of a Moshi-protocol session', () => {
  const FRAMES = 15;
  let session: MoshiSession;
  beforeAll(async () => {
    session = await recordMoshiSession(FRAMES, 5);
  }, 120_000);
  afterAll(() => session?.dispose());

  async function moshiTrace(): Promise<{ trace: ChromeTrace; steps: ReadStep[]; packets: PacketRow[] }> {
    const r = await openSession(session.path);
    const steps: ReadStep[] = [];
    for await (const s of r.steps()) steps.push(s);
    const packets: PacketRow[] = [];
    const row = packetRowReader(wireOf(r.manifest), inputFramingOf(r.manifest));
    for await (const p of r.packets()) packets.push(row(packets.length, p.direction, p.timeMs, p.bytes));
    return { trace: sessionToChromeTrace(traceInput('moshi', r.manifest, steps, packets)), steps, packets };
  }

  it('follows the format and has packet tracks of Moshi kinds, counters, and a flow per step', async () => {
    const { trace, steps, packets } = await moshiTrace();
    expect(formatProblems(trace)).toEqual([]);
    expect(trace.otherData.wire).toBe('moshi');
    const names = threadNames(trace);
    const onTrack = (track: string) => trace.traceEvents.filter((e) => e.cat === 'packet' && names.get(e.tid)!.startsWith(track));
    expect(new Set(onTrack('packets client').map((e) => e.name))).toEqual(new Set(['audio']));
    expect(new Set(onTrack('packets server').map((e) => e.name))).toEqual(new Set(['metadata', 'handshake', 'audio', ...(onTrack('packets server').some((e) => e.name === 'ping') ? ['ping'] : [])]));
    expect(onTrack('packets').length).toBe(packets.length);
    const counters = new Set(trace.traceEvents.filter((e) => e.ph === 'C').map((e) => e.name));
    expect([...counters].sort()).toEqual(['jitter in (ms)', 'jitter out (ms)', 'queue depth (frames)']);
    // Input jitter: each client page's gap to the one before, against the Opus it carries (40 ms, the last page maybe less).
    const audioIn = packets.filter((p) => p.direction === 0 && p.audioMs > 0);
    expect(audioIn.slice(0, -1).every((p) => p.audioMs === 40)).toBe(true);
    const jitterIn = trace.traceEvents.filter((e) => e.name === 'jitter in (ms)').map((e) => e.args!.ms as number);
    expect(jitterIn).toEqual(audioIn.slice(1).map((p, i) => Math.abs(p.timeMs - audioIn[i]!.timeMs - p.audioMs)));
    // Input frames fall on the client encoder's boundaries: its FRAMES frames and the tail behind the pre-skip (EOS-padded).
    const preSkip = Math.ceil(new OggOpusEncoder({ lib: await loadLibopusNode(), shape: MOSHI_CLIENT_SHAPE, serial: 1 }).preSkip / 2);
    const inputFrames = Math.ceil((FRAMES * 1920 + preSkip) / 1920);
    expect(packets.filter((p) => p.direction === 0).reduce((a, p) => a + p.frames, 0)).toBe(inputFrames);
    const depth = trace.traceEvents.filter((e) => e.name === 'queue depth (frames)');
    expect(depth.length).toBe(inputFrames + steps.filter((s) => s.spans['step.total'] !== undefined).length);
    const flows = trace.traceEvents.filter((e) => e.cat === 'flow');
    const fed = steps.filter((s) => s.step < inputFrames && !s.events.some((e) => e.kind === 'missing-frame')).length;
    expect(flows.filter((e) => e.ph === 's' && names.get(e.tid)!.startsWith('packets client')).length).toBe(fed);
    expect(flows.filter((e) => e.ph === 'f' && names.get(e.tid)!.startsWith('packets server')).length).toBe(steps.filter((s) => s.pcmHash !== null).length);
  });

  it('solacelive export-trace writes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    try {
      const out = join(dir, 'trace.json');
      const bin = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;
      const r = spawnSync(process.execPath, [bin, 'export-trace', session.path, '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const written = JSON.parse(readFileSync(out, 'utf8')) as ChromeTrace;
      expect(formatProblems(written)).toEqual([]);
      expect(written.traceEvents.filter((e) => e.cat === 'flow' && e.ph === 's').length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A session recorded by `solacelive proxy` (no engine, so no spans): what it holds is the
// timing measured from outside (proxy.json), so that is what its trace shows: each answered
// frame's lag as a slice from the client frame's arrival to its reply's and as a counter,
// stalls and client-timeout silences as slices, text, events and the close as instants, and
// the packets both ways. A proxied session without its figures is refused in words.
describe('Chrome trace export of a proxied session', () => {
  const DELAY = 120;
  const PAUSE_MS = 700;
  let up: TestUpstream;
  let proxy: MoshiProxy;
  let report: ConnectionReport;
  const dir = mkdtempSync(join(tmpdir(), 'trace-proxied-'));
  const bin = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;
  beforeAll(async () => {
    up = await startTestUpstream();
    // Thresholds lowered so a 2 s session has a stall and a client-timeout silence.
    proxy = await startProxy({ upstream: up.url, record: join(dir, 'rec'), meter: { stallMs: 400, clientTimeoutMs: 600 }, log: () => undefined });
    const c = await connectMoshi(`${proxy.url}/api/chat`, { query: { delay: DELAY, pauseAt: 10, pauseMs: PAUSE_MS } });
    await c.run(testFrames(25, 3));
    const deadline = performance.now() + 20_000;
    while (proxy.reports.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    report = proxy.reports[0]!;
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const exportTrace = (session: string): { status: number | null; stderr: string; trace: ChromeTrace | null } => {
    const out = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    const r = spawnSync(process.execPath, [bin, 'export-trace', session, '--out', out], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr, trace: r.status === 0 ? (JSON.parse(readFileSync(out, 'utf8')) as ChromeTrace) : null };
  };

  it('has the lag per answered frame as slices and a counter, stalls and silences as slices, text, events and the close as instants, packets both ways', async () => {
    const f = report.figures;
    expect(f.lag.series.length).toBeGreaterThan(10);
    expect(f.stalls.count).toBeGreaterThanOrEqual(1);
    expect(f.clientTimeouts.count).toBeGreaterThanOrEqual(1);
    const { status, stderr, trace } = exportTrace(report.path!);
    expect(status, stderr).toBe(0);
    expect(formatProblems(trace)).toEqual([]);
    const names = threadNames(trace!);
    const on = (track: string) => trace!.traceEvents.filter((e) => e.ph !== 'M' && names.get(e.tid)?.startsWith(track));
    // No engine in a proxied session: no stage tracks.
    expect([...names.values()].filter((n) => TRACE_STAGES.some((s) => n.startsWith(s)) || n.startsWith(ENGINE_STEP_TRACK))).toEqual([]);
    // One lag slice per series point, from the client frame's arrival to the reply's (µs, rounded).
    const lag = on('response lag').filter((e) => e.ph === 'X').sort((a, b) => a.ts + a.dur! - (b.ts + b.dur!));
    expect(lag).toHaveLength(f.lag.series.length);
    lag.forEach((e, i) => {
      const [atMs, lagMs] = f.lag.series[i]!;
      expect(Math.abs(e.ts + e.dur! - atMs * 1000)).toBeLessThanOrEqual(1);
      expect(Math.abs(e.dur! - lagMs * 1000)).toBeLessThanOrEqual(1);
      expect(e.args).toMatchObject({ 'lag ms': lagMs, 'server frame': f.lag.frames![i], 'client frame': f.lag.frames![i]! + f.lag.warmupFrames });
    });
    const counter = trace!.traceEvents.filter((e) => e.ph === 'C' && e.name === 'response lag (ms)');
    expect(counter.map((e) => e.args!.ms)).toEqual(f.lag.series.map(([, l]) => l));
    // The injected delay is the lag's floor.
    expect(Math.min(...lag.map((e) => e.dur!))).toBeGreaterThanOrEqual(DELAY * 1000 - 1);
    const stalls = on('audio stalls').filter((e) => e.ph === 'X');
    expect(stalls.map((e) => [e.ts / 1000, e.dur! / 1000])).toEqual(f.stalls.list.map((s) => [expect.closeTo(s.atMs, 2), expect.closeTo(s.durationMs, 2)]));
    const silences = on('client-timeout silences').filter((e) => e.ph === 'X');
    expect(silences).toHaveLength(f.clientTimeouts.count);
    const instants = on('events').filter((e) => e.ph === 'i');
    expect(instants.map((e) => e.name)).toEqual(expect.arrayContaining([...f.events.map((e) => e.kind), 'close']));
    expect(instants.find((e) => e.name === 'close')!.args).toMatchObject({ by: f.end!.by, code: f.end!.code });
    expect(on('text').filter((e) => e.ph === 'i')).toHaveLength(f.text.pieces.length);
    // Every recorded message, on its direction's track.
    const r = await openSession(report.path!);
    const packets = { in: 0, out: 0 };
    for await (const p of r.packets()) packets[p.direction === 0 ? 'in' : 'out']++;
    expect(on('packets client').filter((e) => e.cat === 'packet')).toHaveLength(packets.in);
    expect(on('packets server').filter((e) => e.cat === 'packet')).toHaveLength(packets.out);
    expect(trace!.otherData).toMatchObject({ kind: 'proxied', upstream: up.url });
  });

  it('a proxied session whose proxy.json is missing or broken is refused in words, naming what is wrong', () => {
    const copy = join(dir, 'broken.session');
    cpSync(report.path!, copy, { recursive: true });
    writeFileSync(join(copy, 'proxy.json'), '{"format": "solacelive.proxy", "version": 1}');
    const broken = exportTrace(copy);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/\[EXPORT_ERR_PROXY_FILE\] .*broken\.session is a proxy recording.*proxy\.json: figures must be an object/s);
    rmSync(join(copy, 'proxy.json'));
    const missing = exportTrace(copy);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/\[EXPORT_ERR_PROXY_FILE\] .*broken\.session is a proxy recording.*proxy\.json is missing/s);
  });
});
