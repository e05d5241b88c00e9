// Record a real loopback session (server + Node client + engine child process with the tiny
// model) and replay it offline through the same kind of engine: bit-exact; a flipped input
// sample diverges at its step; mismatched weights are refused with the reason; a truncated
// session replays its whole steps.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitFrames } from '../../../src/audio/frames.ts';
import { toMono24k } from '../../../src/audio/resample.ts';
import { readWavSync } from '../../../src/audio/wav-file.ts';
import { DEFAULT_SAMPLING } from '../../../src/engine/types.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import { openSession, WAV_HEADER_BYTES, type SessionError } from '../../../harness/format/node.ts';
import { recordFrames, type RecordResult } from '../../../harness/record.ts';
import { ReplayError, replaySession } from '../../../harness/replayer.ts';
import { diffSessions } from '../../../harness/diff.ts';
import { pacedReplay } from '../../../harness/paced.ts';
import { startEngine } from '../../server/live/engine.ts';

const STEPS = 25; // 2 s of the fixture
const dir = mkdtempSync(join(tmpdir(), 'solacelive-replay-'));
let engine: EnginePort;
let rec: RecordResult;

beforeAll(async () => {
  engine = await startEngine();
  const wav = readWavSync(new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname);
  const frames = splitFrames(toMono24k(wav.channels, wav.sampleRate).samples).frames.slice(0, STEPS);
  expect(frames.length).toBe(STEPS);
  rec = await recordFrames(frames, { out: join(dir, 'live.session'), engine, seed: 1234, sampling: DEFAULT_SAMPLING });
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

function copy(name: string): string {
  const to = join(dir, name);
  cpSync(rec.path, to, { recursive: true });
  return to;
}

describe('recording a live loopback session', () => {
  it('writes a complete session: manifest from the engine, both directions of packets, one step line and frame per step', async () => {
    expect(rec.client.ok).toBe(true);
    expect(rec.status.state).toBe('closed');
    const r = await openSession(rec.path, { strict: true });
    const m = r.manifest;
    expect(m.status).toBe('complete');
    expect(m.model.id).toBe(engine.info!.model);
    expect(m.model.weights).toEqual(engine.info!.weightsSha256);
    expect(Object.keys(m.model.weights).length).toBeGreaterThan(0);
    expect(m.seed).toBe(1234);
    expect(m.sampling).toEqual(DEFAULT_SAMPLING);
    expect(m.platform).toEqual(engine.info!.fingerprint);
    expect(m.software.version).toBe(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version);
    const scan = await r.scan({ verifyPcm: true });
    expect(scan.wholeSteps).toBe(STEPS);
    expect(scan.pcmMismatches).toEqual([]);
    expect(scan.packets.clientToServer).toBeGreaterThanOrEqual(STEPS + 2); // start, frames, end
    expect(scan.packets.serverToClient).toBeGreaterThanOrEqual(STEPS);
    const steps = [];
    for await (const s of r.steps()) steps.push(s);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    expect(steps[STEPS - 1]!.spans['step.total']).toBeGreaterThan(0);
  });
});

describe('offline replay', () => {
  it('replays the live session bit-exactly through an engine process', async () => {
    const r = await replaySession(rec.path, { engine });
    expect(r.comparison.verdict).toBe('bit-exact');
    expect(r.verdict).toBe('bit-exact');
    expect(r.expected).toBe('bit-exact');
    expect(r.stepsReplayed).toBe(STEPS);
  });

  it('a flipped input sample diverges at the first step whose outputs it changes, with the values and context', async () => {
    const FRAME = 11; // with sample 960 set to 0.9: a flip the tiny Mimi does not quantize away (many are)
    const path = copy('flipped.session');
    const wav = join(path, 'input.wav');
    const r0 = await openSession(rec.path);
    const track = await r0.wav('input');
    const frames: Float32Array[] = [];
    for await (const f of track.frames(0)) frames.push(f);
    const fd = openSync(wav, 'r+');
    const b = Buffer.alloc(4);
    b.writeFloatLE(0.9);
    writeSync(fd, b, 0, 4, WAV_HEADER_BYTES + 4 * (FRAME * 1920 + 960));
    closeSync(fd);
    // Oracle, independent of the session files and the comparator: two fresh engine sessions,
    // original and flipped frames; the first step whose outputs differ. (Mimi's receptive
    // field decides it: with the tiny model a mid-frame sample first shows in a later step.)
    const flipped = frames.map((f, i) => (i === FRAME ? Float32Array.from(f, (x, j) => (j === 960 ? 0.9 : x)) : f));
    const run = async (fs: Float32Array[], id: string) => {
      await engine.openSession(id, { seed: 1234, sampling: DEFAULT_SAMPLING });
      const out = [];
      for (let k = 0; k < fs.length; k++) out.push(await engine.step({ session: id, step: k, pcm: fs[k]!, events: [] }));
      await engine.closeSession(id);
      return out.map((o) => JSON.stringify([o.inputCodes, o.text, o.audio, o.pcmHash]));
    };
    const [a, b2] = [await run(frames, 'oracle-a'), await run(flipped, 'oracle-b')];
    const N = a.findIndex((x, i) => x !== b2[i]);
    expect(N).toBeGreaterThanOrEqual(FRAME);

    // input.wav no longer matches the client audio in packets.bin: damage, replayed only when salvaged.
    const r = await replaySession(path, { engine, salvage: true });
    expect(r.integrity.damage[0]).toMatchObject({ file: 'input.wav', where: `frame ${FRAME}` });
    expect(r.comparison.kind).toBe('diverged');
    expect(r.comparison.verdict).toBe(`diverged at step ${N}`);
    expect(r.comparison.diffs.length).toBeGreaterThan(0);
    expect(r.comparison.at?.step).toBe(N);
    expect(r.comparison.before.map((x) => x.step)).toEqual([N - 3, N - 2, N - 1]);
    expect(r.comparison.after.map((x) => x.step)).toEqual([N + 1, N + 2, N + 3]);
    expect(r.stepsReplayed).toBe(N + 1 + 3); // stops after the context, not at the end
  });

  it('--out writes the replay as a session: every step, past a divergence too, and sessions diff gives the same verdict', async () => {
    const same = await replaySession(rec.path, { engine, out: join(dir, 'replayed.session') });
    expect(same.out).toBe(join(dir, 'replayed.session'));
    const r = await openSession(same.out!, { strict: true });
    expect(r.manifest.status).toBe('complete');
    expect(r.manifest.meta).toMatchObject({ replayOf: rec.path, replay: 'offline' });
    expect((await r.scan({ verifyPcm: true })).wholeSteps).toBe(STEPS);
    const d = await diffSessions(rec.path, same.out!);
    expect(d.comparison.verdict).toBe('bit-exact');
    expect(d.setupDiffs).toEqual([]);

    // A flipped input: the replay's verdict stops at the divergence, the new session does not.
    const path = copy('flipped-out.session');
    const fd = openSync(join(path, 'input.wav'), 'r+');
    const b = Buffer.alloc(4);
    b.writeFloatLE(0.9);
    writeSync(fd, b, 0, 4, WAV_HEADER_BYTES + 4 * (11 * 1920 + 960));
    closeSync(fd);
    const flipped = await replaySession(path, { engine, salvage: true, out: join(dir, 'flipped-replayed.session') });
    expect(flipped.comparison.kind).toBe('diverged');
    expect(flipped.stepsReplayed).toBe(STEPS);
    const d2 = await diffSessions(path, flipped.out!, 3, { salvage: true });
    expect(d2.damage.a[0]).toMatchObject({ file: 'input.wav', where: 'frame 11' });
    expect(d2.damage.b).toEqual([]);
    expect(d2.steps).toEqual({ a: STEPS, b: STEPS });
    expect(d2.comparison.verdict).toBe(flipped.comparison.verdict);
  });

  it('refuses a session recorded with other weights, naming the file; --force replays and labels the verdict', async () => {
    const path = copy('otherweights.session');
    const mf = join(path, 'manifest.json');
    const m = JSON.parse(readFileSync(mf, 'utf8'));
    const m0 = JSON.parse(readFileSync(mf, 'utf8'));
    const file = Object.keys(m.model.weights)[0]!;
    m.model.weights[file] = 'ab'.repeat(32);
    writeFileSync(mf, JSON.stringify(m, null, 2));
    // An edited manifest disagrees with the ready message in packets.bin: damage first…
    const damaged = await replaySession(path, { engine }).catch((e: unknown) => e);
    expect((damaged as SessionError).code).toBe('SESSION_ERR_DAMAGED');
    expect((damaged as SessionError).damage.map((d) => d.where)).toContain('model.weights');
    // …and, salvaged, the engine check still names what differs.
    const err = await replaySession(path, { engine, salvage: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).code).toBe('REPLAY_ERR_MISMATCH');
    expect((err as ReplayError).message).toContain(`weights ${file}: recorded sha256 ${'ab'.repeat(32)}`);
    const forced = await replaySession(path, { engine, force: true, salvage: true });
    expect(forced.forced).toBe(true);
    expect(forced.verdict).toMatch(/^bit-exact \(forced: 1 mismatch/);
    // sessions diff: same steps, and it names how the two were set up differently.
    const d = await diffSessions(rec.path, path, 3, { salvage: true });
    expect(d.comparison.verdict).toBe('bit-exact');
    expect(d.setupDiffs).toEqual([`weights ${file}: ${m0.model.weights[file]} vs ${'ab'.repeat(32)}`]);
  });

  it('a truncated session (crash) recovers and replays its whole steps', async () => {
    const path = copy('truncated.session');
    // What a kill -9 leaves in the manifest: still 'recording', no final counts or checksums.
    const mf = join(path, 'manifest.json');
    const m = JSON.parse(readFileSync(mf, 'utf8'));
    writeFileSync(mf, JSON.stringify({ ...m, status: 'recording', closedAt: null, counts: { packets: 0, packetBytes: 0, steps: 0, inputSamples: 0, outputSamples: 0 }, integrity: { ...m.integrity, files: null } }, null, 2));
    const steps = join(path, 'steps.jsonl');
    const lines = readFileSync(steps, 'utf8').split('\n');
    // Keep the header and 17 steps, then half of step 17's line.
    const keep = lines.slice(0, 18).join('\n').length + 1 + Math.floor(lines[18]!.length / 2);
    truncateSync(steps, keep);
    const wav = join(path, 'input.wav');
    truncateSync(wav, WAV_HEADER_BYTES + 4 * (19 * 1920 + 100));
    truncateSync(join(path, 'packets.bin'), statSync(join(path, 'packets.bin')).size - 1000);
    const r = await replaySession(path, { engine });
    expect(r.wholeSteps).toBe(17);
    expect(r.stepsReplayed).toBe(17);
    expect(r.comparison.verdict).toBe('bit-exact');
    expect(r.recoveries.map((x) => x.code)).toContain('SESSION_ERR_TRUNCATED');
  });
});

describe('paced replay', () => {
  it('the recorded client audio over a real WebSocket at the recorded times makes a bit-exact new session', async () => {
    const p = await pacedReplay(rec.path, { engine, out: join(dir, 'paced.session') });
    expect(p.client.ok).toBe(true);
    expect(p.framesSent).toBe(STEPS);
    expect(p.diff.steps).toEqual({ a: STEPS, b: STEPS });
    expect(p.diff.comparison.verdict).toBe('bit-exact');
    expect(p.diff.setupDiffs).toEqual([]);
  });
});

describe('solacelive replay', () => {
  it('prints the verdict and exits 0 only for the verdict asked for', async () => {
    const bin = new URL('../../../bin/solacelive.mjs', import.meta.url).pathname;
    const run = (args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('exit', (code) => resolve({ code, out }));
    });
    const ok = await run(['replay', rec.path]);
    expect(ok.out).toMatch(/^verdict: bit-exact$/m);
    expect(ok.out).toMatch(/expected bit-exact \(platform fingerprint matches\)/);
    expect(ok.code, ok.out).toBe(0);
  }, 60_000);
});

describe('the committed fixture session', () => {
  it('fixtures/sessions/hello-2s.session replays with the verdict its platform fingerprint allows (bit-exact here)', async () => {
    const path = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
    const r = await replaySession(path, { engine }).catch((e: Error) => {
      throw new Error(`${e.message}\n(the model or package version changed: re-record with \`solacelive record --in fixtures/audio/hello.wav --out ${path} --seconds 2 --seed 2026\`)`);
    });
    expect(r.stepsReplayed).toBe(25);
    if (r.expected === 'bit-exact') expect(r.comparison.verdict).toBe('bit-exact');
    else expect(['bit-exact', 'token-exact']).toContain(r.comparison.verdict);
    // --from: steps before it still run (they rebuild the model state) but are not compared.
    const from = await replaySession(path, { engine, from: 20 });
    expect(from.stepsReplayed).toBe(25);
    expect(from.comparison.steps).toBe(5);
    expect(from.comparison.verdict).toBe(r.comparison.verdict);
  });
});
