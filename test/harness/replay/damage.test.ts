// Damage the CRCs do not cover, on real recorded sessions (the committed v1 fixture copied to
// a temp folder, and a fresh v2 recording through a real server and engine): each is reported
// as damage naming the file and place (SESSION_ERR_DAMAGED) by replay and by sessions diff,
// never as a verdict about the model; an undamaged session still gets the verdict its
// platform fingerprint allows.
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitFrames } from '../../../src/audio/frames.ts';
import { toMono24k } from '../../../src/audio/resample.ts';
import { readWavSync } from '../../../src/audio/wav-file.ts';
import { DEFAULT_SAMPLING } from '../../../src/engine/types.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import { diffSessions } from '../../../harness/diff.ts';
import { isSessionError, openSession, WAV_HEADER_BYTES, type SessionError } from '../../../harness/format/node.ts';
import { recordFrames } from '../../../harness/record.ts';
import { fingerprintDiffs, ReplayError, replaySession } from '../../../harness/replayer.ts';
import { verifySession } from '../../../harness/verify.ts';
import { startEngine } from '../../server/live/engine.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const STEPS = 25;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-damage-'));
let engine: EnginePort;
let fresh: string;

beforeAll(async () => {
  engine = await startEngine();
  const wav = readWavSync(new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname);
  const frames = splitFrames(toMono24k(wav.channels, wav.sampleRate).samples).frames.slice(0, STEPS);
  fresh = (await recordFrames(frames, { out: join(dir, 'fresh.session'), engine, seed: 7, sampling: DEFAULT_SAMPLING, pace: 'fast' })).path;
}, 120_000);
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function copy(from: string): string {
  const to = join(dir, `copy-${n++}.session`);
  cpSync(from, to, { recursive: true });
  return to;
}

function pokeFloat(file: string, sample: number, value: number | 'nan'): void {
  const b = Buffer.alloc(4);
  if (value === 'nan') b.writeUInt32LE(0x7fc00000);
  else b.writeFloatLE(value);
  const fd = openSync(file, 'r+');
  writeSync(fd, b, 0, 4, WAV_HEADER_BYTES + 4 * sample);
  closeSync(fd);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test edits arbitrary manifest JSON
function editManifest(path: string, edit: (m: Record<string, any>) => void): void {
  const file = join(path, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8'));
  edit(m);
  writeFileSync(file, JSON.stringify(m, null, 2));
}

function editStepLines(path: string, edit: (lines: string[]) => void): void {
  const file = join(path, 'steps.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n');
  edit(lines); // lines[0] is the header; lines[k + 1] is step k
  writeFileSync(file, lines.join('\n'));
}

/** The SESSION_ERR_DAMAGED that replay and sessions diff (either side) must throw. */
async function damageOf(path: string): Promise<SessionError> {
  const err = await replaySession(path, { engine }).then(() => null, (e: unknown) => e);
  expect(isSessionError(err, 'SESSION_ERR_DAMAGED'), String(err)).toBe(true);
  for (const [a, b, side] of [[path, FIXTURE, 'A'], [FIXTURE, path, 'B']] as const) {
    const d = await diffSessions(a, b).then(() => null, (e: unknown) => e);
    expect(isSessionError(d, 'SESSION_ERR_DAMAGED'), String(d)).toBe(true);
    expect((d as SessionError).message).toContain(`${side} (${path})`);
    expect((d as SessionError).damage[0]).toEqual((err as SessionError).damage[0]);
  }
  return err as SessionError;
}

/** The verdict the fingerprints allow for a replay of `path` on this machine. */
function allowed(path: string): string[] {
  const m = JSON.parse(readFileSync(join(path, 'manifest.json'), 'utf8'));
  return fingerprintDiffs(m.platform, engine.info!.fingerprint).length === 0 ? ['bit-exact'] : ['bit-exact', 'token-exact'];
}

describe.each([['the committed v1 fixture', () => FIXTURE], ['a fresh v2 recording', () => fresh]])('damage in %s', (_name, source) => {
  it('undamaged: verified without damage and replayed with the verdict its fingerprint allows', async () => {
    const path = copy(source());
    const v = await verifySession(await openSession(path));
    expect(v.damage).toEqual([]);
    expect(v.checked.join('\n')).toMatch(/input\.wav: 25 of 25 frames match/);
    expect(v.checked.join('\n')).toMatch(/output\.wav: 25 frames checked/);
    const r = await replaySession(path, { engine });
    expect(allowed(path)).toContain(r.comparison.verdict);
    expect(r.integrity.damage).toEqual([]);
  });

  it('a NaN sample in output.wav: damage at that frame, not bit-exact', async () => {
    const path = copy(source());
    pokeFloat(join(path, 'output.wav'), 7 * 1920 + 100, 'nan');
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'output.wav', where: 'frame 7', step: 7 });
  });

  it('input.wav frame 20 overwritten: damage against the copy in packets.bin, not "diverged at step 20"', async () => {
    const path = copy(source());
    pokeFloat(join(path, 'input.wav'), 20 * 1920 + 5, 0.5);
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'input.wav', where: 'frame 20', step: 20 });
    expect(e.message).toMatch(/damaged: input\.wav frame 20 .*packets\.bin/);
  });

  it('the manifest seed edited: damage in manifest.json, not "diverged at step 1"', async () => {
    const path = copy(source());
    editManifest(path, (m) => (m.seed -= 1));
    const e = await damageOf(path);
    expect(e.damage.map((d) => [d.file, d.where])).toContainEqual(['manifest.json', 'seed']);
    expect(e.message).toMatch(/seed is \d+, but the server's 'ready' message in packets\.bin says \d+/);
  });

  it('the platform edited (which decides the expected verdict): damage in manifest.json', async () => {
    const path = copy(source());
    editManifest(path, (m) => (m.platform.cpuModel = 'Another CPU'));
    const e = await damageOf(path);
    expect(e.damage.map((d) => [d.file, d.where])).toContainEqual(['manifest.json', 'platform']);
  });

  it('a step line deleted: damage naming the missing step, in replay and in sessions diff', async () => {
    const path = copy(source());
    editStepLines(path, (l) => l.splice(9 + 1, 1));
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'steps.jsonl', step: 9 });
    expect(e.damage[0]!.message).toMatch(/step 9 is missing/);
  });

  it('a step line duplicated: damage naming the repeated step', async () => {
    const path = copy(source());
    editStepLines(path, (l) => l.splice(9 + 1, 0, l[9 + 1]!));
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'steps.jsonl', where: 'step line 11', step: 9 });
    expect(e.damage[0]!.message).toMatch(/repeats step 9/);
  });

  it('steps.jsonl cut short in a session the manifest says closed cleanly: damage, not a crash recovery', async () => {
    const path = copy(source());
    const file = join(path, 'steps.jsonl');
    truncateSync(file, statSync(file).size - 300);
    const e = await damageOf(path);
    expect(e.damage.map((d) => d.file)).toContain('steps.jsonl');
  });

  it('a step that made no audio with sound in its output.wav frame: damage (the frame must be silence)', async () => {
    const path = copy(source());
    pokeFloat(join(path, 'output.wav'), 0 * 1920 + 10, 0.25); // step 0 is warm-up: no PCM
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'output.wav', where: 'frame 0' });
    expect(e.damage[0]!.message).toMatch(/silence/);
  });

  it('model.id made a path: damage, and with --salvage a typed refusal that never looks the path up', async () => {
    const path = copy(source());
    editManifest(path, (m) => (m.model.id = '../../../../etc'));
    const e = await damageOf(path);
    expect(e.damage.map((d) => d.where)).toContain('model.id');
    const err = await replaySession(path, { salvage: true }).then(() => null, (x: unknown) => x);
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).code).toBe('REPLAY_ERR_MODEL_ID');
    expect((err as ReplayError).message).not.toMatch(/model\.json/);
  });

  it('--salvage replays a damaged session anyway, listing the damage and labelling the verdict', async () => {
    const path = copy(source());
    pokeFloat(join(path, 'output.wav'), 7 * 1920 + 100, 'nan');
    const r = await replaySession(path, { engine, salvage: true });
    expect(r.integrity.damage[0]).toMatchObject({ file: 'output.wav', where: 'frame 7' });
    expect(r.verdict).toMatch(/\(salvaged: the session is damaged in \d+ places?\)$/);
  });
});

describe('format v2 integrity data', () => {
  it('a changed setup field is caught by its digest even where no ready message can vouch (meta)', async () => {
    const path = copy(fresh);
    editManifest(path, (m) => (m.meta.recordedBy = 'someone else'));
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'manifest.json', where: 'setup fields' });
  });

  it('checksums stripped from a cleanly closed v2 session: damage, not an old session', async () => {
    const path = copy(fresh);
    editManifest(path, (m) => (m.integrity.files = null));
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'manifest.json', where: 'integrity.files' });
  });

  it('a changed byte the cross-checks cannot see (a span time in steps.jsonl, CRC fixed up) fails the file sha256', async () => {
    const path = copy(fresh);
    const { crc32, crc32Hex } = await import('../../../harness/format/node.ts');
    editStepLines(path, (l) => {
      const line = l[3]!;
      const body = line.slice(0, line.length - 18).replace(/"step\.total":\d/, (s) => s.slice(0, -1) + ((Number(s.at(-1)) + 1) % 10));
      l[3] = `${body},"crc":"${crc32Hex(crc32(new TextEncoder().encode(`${body}}`)))}"}`;
    });
    const e = await damageOf(path);
    expect(e.damage[0]).toMatchObject({ file: 'steps.jsonl', where: 'sha256' });
  });

  it('a crashed v2 session (no final checksums) is verified by cross-checks only and replays its whole steps', async () => {
    const path = copy(fresh);
    // What a kill -9 leaves: manifest still 'recording' (counts zero, no file digests), files torn.
    editManifest(path, (m) => Object.assign(m, { status: 'recording', closedAt: null, counts: { packets: 0, packetBytes: 0, steps: 0, inputSamples: 0, outputSamples: 0 }, integrity: { ...m.integrity, files: null } }));
    const lines = readFileSync(join(path, 'steps.jsonl'), 'utf8').split('\n');
    truncateSync(join(path, 'steps.jsonl'), lines.slice(0, 18).join('\n').length + 1 + 40);
    truncateSync(join(path, 'input.wav'), WAV_HEADER_BYTES + 4 * (19 * 1920 + 100));
    const v = await verifySession(await openSession(path));
    expect(v.damage).toEqual([]);
    expect(v.unverified.join('\n')).toMatch(/no final checksums \(the writer never closed: a crash\); verified by cross-checks/);
    const r = await replaySession(path, { engine });
    expect(r.stepsReplayed).toBe(17);
    expect(allowed(path)).toContain(r.comparison.verdict);
    // The same crash with input.wav frame 3 overwritten is still damage.
    pokeFloat(join(path, 'input.wav'), 3 * 1920, 0.5);
    const e = await replaySession(path, { engine }).then(() => null, (x: unknown) => x);
    expect((e as SessionError).damage?.[0]).toMatchObject({ file: 'input.wav', where: 'frame 3' });
  });
});
