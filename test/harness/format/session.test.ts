// Real session folders in a temp dir: write, close, reopen and compare everything (WAV samples
// bit for bit); crash images cut at arbitrary bytes of every file; typed errors for wrong
// versions, foreign folders and missing files; the Blob and zip adapters the viewer uses.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SessionWriter, openSession, isSessionError, sessionsFromFiles, sessionsFromZip, openSessionFiles, blobSessionFiles,
  INPUT_WAV, OUTPUT_WAV, PACKETS_FILE, STEPS_FILE, MANIFEST_FILE, WAV_HEADER_BYTES,
} from '../../../harness/format/node.ts';
import type { PacketRecord, SessionError, SessionReader, StepRecord } from '../../../harness/format/node.ts';
import { VirtualClock } from '../../../src/telemetry/clock.ts';
import { makeStep, rng, testInit } from './session-fixtures.ts';
import type { TestStep } from './session-fixtures.ts';

// An independent decoder (a dependency, untyped) checks that our WAVs are standard ones.
const wavDecoder = createRequire(import.meta.url)('wav-decoder') as { decode(b: Buffer): Promise<{ sampleRate: number; channelData: Float32Array[] }> };

const STEPS = 24;
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'solacelive-format-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function record(dir: string, n = STEPS, close = true): Promise<{ writer: SessionWriter; steps: TestStep[] }> {
  const clock = new VirtualClock(1000);
  const writer = await SessionWriter.create(dir, testInit(), { clock, wallClock: () => new Date('2026-01-02T03:04:05Z') });
  const random = rng(7);
  const steps: TestStep[] = [];
  for (let i = 0; i < n; i++) {
    clock.advance(80);
    const s = makeStep(i, writer.now(), random);
    steps.push(s);
    writer.appendPacket(s.packets[0]!.direction, s.packets[0]!.bytes, s.packets[0]!.timeMs);
    writer.appendStep(s.record, s.input, s.output);
    writer.appendPacket(s.packets[1]!.direction, s.packets[1]!.bytes, s.packets[1]!.timeMs);
  }
  if (close) await writer.close();
  else await writer.abandon();
  return { writer, steps };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const bits = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
const packetsOf = (steps: readonly TestStep[]): PacketRecord[] => steps.flatMap((s) => s.packets);
const stripPacket = ({ direction, timeMs, bytes }: PacketRecord): PacketRecord => ({ direction, timeMs, bytes });
const stripStep = ({ offset: _, ...r }: StepRecord & { offset: number }): StepRecord => r;

async function expectTyped(p: Promise<unknown>, code: string): Promise<SessionError> {
  try {
    await p;
  } catch (err) {
    expect(isSessionError(err)).toBe(true);
    expect((err as SessionError).code).toBe(code);
    return err as SessionError;
  }
  throw new Error(`expected ${code}`);
}

async function contents(s: SessionReader) {
  const input = await s.wav('input');
  const output = await s.wav('output');
  return {
    packets: (await all(s.packets())).map(stripPacket),
    steps: (await all(s.steps())).map(stripStep),
    input: await all(input.frames()),
    output: await all(output.frames()),
  };
}

describe('write, close, reopen', () => {
  let dir: string;
  let steps: TestStep[];
  beforeAll(async () => {
    dir = join(tmp, 'whole.session');
    ({ steps } = await record(dir));
  });

  it('gives back the manifest, every packet, every step and bit-exact WAV samples', async () => {
    const s = await openSession(dir);
    expect(s.recoveries).toEqual([]);
    expect(s.manifest).toMatchObject({
      ...testInit(), status: 'complete', createdAt: '2026-01-02T03:04:05.000Z', closedAt: '2026-01-02T03:04:05.000Z', error: null,
      counts: { packets: 2 * STEPS, packetBytes: packetsOf(steps).reduce((n, p) => n + p.bytes.length, 0), steps: STEPS, inputSamples: STEPS * 1920, outputSamples: STEPS * 1920 },
    });
    const got = await contents(s);
    expect(got.packets).toEqual(packetsOf(steps));
    expect(got.steps).toEqual(steps.map((x) => x.record));
    expect(got.input.map(bits)).toEqual(steps.map((x) => bits(x.input)));
    // A step without PCM keeps its slot in output.wav as a zero frame.
    expect(got.output.map(bits)).toEqual(steps.map((x) => bits(x.output ?? new Float32Array(1920))));
    const report = await s.scan({ verifyPcm: true });
    expect(report).toMatchObject({ status: 'complete', wholeSteps: STEPS, pcmChecked: STEPS - 2, pcmMismatches: [], recoveries: [] });
    expect((await s.wav('input')).finalized).toBe(true);
    expect(await (await s.wav('output')).readSamples(1920 * 3 + 7, 5)).toEqual(steps[3]!.output!.subarray(7, 12));
  });

  it('writes standard WAVs other decoders read (wav-decoder), float32 mono 24 kHz', async () => {
    const decoded = await wavDecoder.decode(readFileSync(join(dir, INPUT_WAV)));
    expect(decoded.sampleRate).toBe(24000);
    expect(decoded.channelData).toHaveLength(1);
    expect(bits(decoded.channelData[0]!)).toEqual(steps.flatMap((x) => bits(x.input)));
  });

  it('keeps samples JSON and PCM conversions would not: NaN payloads, -0, infinities, subnormals', async () => {
    const d = join(tmp, 'odd.session');
    const w = await SessionWriter.create(d, testInit());
    const odd = new Float32Array(1920);
    new Uint32Array(odd.buffer).set([0x7fc00001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0xffffffff]);
    w.appendStep({ step: 0, timeMs: 0, inputCodes: [], text: null, textPiece: null, audioCodes: null, pcmHash: null, events: [], spans: {} }, odd, null);
    await w.close();
    const frame = (await all((await (await openSession(d)).wav('input')).frames()))[0]!;
    expect(bits(frame).slice(0, 6)).toEqual([0x7fc00001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0xffffffff]);
  });

  it('detects a damaged output.wav frame through the steps\' PCM hashes', async () => {
    const d = join(tmp, 'damaged-wav.session');
    cpSync(dir, d, { recursive: true });
    const buf = readFileSync(join(d, OUTPUT_WAV));
    buf[WAV_HEADER_BYTES + 1920 * 4 * 7 + 100]! ^= 1;
    writeFileSync(join(d, OUTPUT_WAV), buf);
    expect((await (await openSession(d)).scan({ verifyPcm: true })).pcmMismatches).toEqual([7]);
  });

  it('a corrupt record in the middle: typed error with file and offset; salvage skips just it', async () => {
    const d = join(tmp, 'corrupt.session');
    cpSync(dir, d, { recursive: true });
    const s0 = await openSession(dir);
    const victim = (await all(s0.packets()))[9]!;
    const buf = readFileSync(join(d, PACKETS_FILE));
    buf[victim.offset + 30]! ^= 0xff;
    writeFileSync(join(d, PACKETS_FILE), buf);
    const s = await openSession(d);
    const err = await expectTyped(all(s.packets()), 'SESSION_ERR_CORRUPT');
    expect(err).toMatchObject({ file: PACKETS_FILE, offset: victim.offset });
    expect(err.message).toMatch(/salvage/);
    const salvaged = await all((await openSession(d, { salvage: true })).packets());
    expect(salvaged.map(stripPacket)).toEqual(packetsOf(steps).filter((_, i) => i !== 9));
  });
});

describe('crash images', () => {
  let dir: string;
  let steps: TestStep[];
  const sizes = new Map<string, number>();
  /** Per log: the byte offsets where a cut loses nothing (record and line ends). */
  const ends = new Map<string, number[]>();
  beforeAll(async () => {
    dir = join(tmp, 'crashed.session');
    ({ steps } = await record(dir, STEPS, false));
    for (const f of [PACKETS_FILE, STEPS_FILE, INPUT_WAV, OUTPUT_WAV]) sizes.set(f, statSync(join(dir, f)).size);
    const s = await openSession(dir);
    ends.set(PACKETS_FILE, [16, ...(await all(s.packets())).map((p) => p.offset + 24 + p.bytes.length)]);
    const text = readFileSync(join(dir, STEPS_FILE));
    ends.set(STEPS_FILE, [...text.entries()].filter(([, b]) => b === 0x0a).map(([i]) => i + 1));
  });

  it('an abandoned session (no close) opens: every record, unfinalised sizes reported', async () => {
    const s = await openSession(dir);
    expect(s.manifest.status).toBe('recording');
    const got = await contents(s);
    expect(got.packets).toEqual(packetsOf(steps));
    expect(got.steps).toEqual(steps.map((x) => x.record));
    expect(got.input.map(bits)).toEqual(steps.map((x) => bits(x.input)));
    expect(s.recoveries.map((r) => `${r.code} ${r.file}`).sort()).toEqual([
      'SESSION_ERR_UNFINALIZED input.wav', 'SESSION_ERR_UNFINALIZED manifest.json', 'SESSION_ERR_UNFINALIZED output.wav',
    ]);
    await expectTyped(openSession(dir, { strict: true }), 'SESSION_ERR_UNFINALIZED');
  });

  // Each file cut alone at its header edges and at pseudo-random bytes, then all four files
  // cut at once at unrelated points, as a kill -9 between writes of different files leaves them.
  const random = rng(99);
  const files = [PACKETS_FILE, STEPS_FILE, INPUT_WAV, OUTPUT_WAV];
  const cases: { name: string; cuts: Record<string, number> }[] = [];
  for (const f of files) {
    const header = f.endsWith('.wav') ? WAV_HEADER_BYTES : f === PACKETS_FILE ? 16 : 59;
    for (const at of [0, 1, header - 1, header, header + 1]) cases.push({ name: `${f} at ${at}`, cuts: { [f]: at } });
    for (let k = 0; k < 5; k++) cases.push({ name: `${f} at random #${k}`, cuts: { [f]: -random() } });
  }
  for (let k = 0; k < 8; k++) cases.push({ name: `all files #${k}`, cuts: Object.fromEntries(files.map((f) => [f, -random()])) });

  it.each(cases)('cut $name: recovers up to the last whole record, step and frame, and says so', async ({ cuts }) => {
    const d = mkdtempSync(join(tmp, 'cut-'));
    cpSync(dir, d, { recursive: true });
    const at = new Map<string, number>();
    for (const [f, c] of Object.entries(cuts)) {
      // Negative: a fraction of the file, so the points fall anywhere in every file.
      at.set(f, c < 0 ? Math.floor(-c * sizes.get(f)!) : c);
      truncateSync(join(d, f), at.get(f)!);
    }
    const s = await openSession(d);
    const got = await contents(s);
    const report = await s.scan();
    rmSync(d, { recursive: true });
    const size = (f: string) => at.get(f) ?? sizes.get(f)!;
    const whole = (f: string) => ends.get(f)!.slice(1).filter((e) => e <= size(f)).length;
    const frames = (f: string) => Math.max(0, Math.floor((size(f) - WAV_HEADER_BYTES) / 7680));

    expect(got.packets).toEqual(packetsOf(steps).slice(0, whole(PACKETS_FILE)));
    expect(got.steps).toEqual(steps.slice(0, whole(STEPS_FILE)).map((x) => x.record));
    expect(got.input.map(bits)).toEqual(steps.slice(0, frames(INPUT_WAV)).map((x) => bits(x.input)));
    expect(got.output).toHaveLength(frames(OUTPUT_WAV));
    expect(report.wholeSteps).toBe(Math.min(got.steps.length, frames(INPUT_WAV), frames(OUTPUT_WAV)));
    // A cut is reported unless it fell exactly on a record or line end; never as corruption.
    for (const [f, n] of at) {
      if (ends.get(f)?.includes(n)) continue;
      const r = s.recoveries.find((x) => x.file === f && x.code === 'SESSION_ERR_TRUNCATED');
      const unfinalizedOnly = f.endsWith('.wav') && n >= WAV_HEADER_BYTES && (n - WAV_HEADER_BYTES) % 4 === 0 && (n - WAV_HEADER_BYTES) % 7680 === 0;
      if (!unfinalizedOnly) expect(r, `${f} cut at ${n} of ${sizes.get(f)}`).toBeDefined();
    }
    expect(s.recoveries.filter((r) => r.code === 'SESSION_ERR_CORRUPT')).toEqual([]);
  });
});

describe('typed errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(tmp, 'errors.session');
    await record(dir, 3);
  });
  const copy = (name: string) => {
    const d = join(tmp, name);
    cpSync(dir, d, { recursive: true });
    return d;
  };

  it('wrong format version names found and supported', async () => {
    const d = copy('v3.session');
    const m = JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8'));
    writeFileSync(join(d, MANIFEST_FILE), JSON.stringify({ ...m, version: 3 }));
    const err = await expectTyped(openSession(d), 'SESSION_ERR_VERSION');
    expect(err).toMatchObject({ found: 3, supported: [1, 2] });
  });

  it('not a session: an empty folder, a folder of other files, another JSON manifest', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    await expectTyped(openSession(empty), 'SESSION_ERR_NOT_A_SESSION');
    const other = join(tmp, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'hi');
    await expectTyped(openSession(other), 'SESSION_ERR_NOT_A_SESSION');
    const pkg = copy('pkg.session');
    writeFileSync(join(pkg, MANIFEST_FILE), '{"name": "x"}');
    await expectTyped(openSession(pkg), 'SESSION_ERR_NOT_A_SESSION');
    const foreign = copy('foreign.session');
    writeFileSync(join(foreign, PACKETS_FILE), 'RIFF....WAVE');
    await expectTyped(all((await openSession(foreign)).packets()), 'SESSION_ERR_NOT_A_SESSION');
    await expectTyped(openSession(join(tmp, 'nope.session')), 'SESSION_ERR_MISSING_FILE');
  });

  it('missing files are named; allowMissing defers the error to the file\'s reader', async () => {
    const d = copy('missing.session');
    unlinkSync(join(d, OUTPUT_WAV));
    unlinkSync(join(d, STEPS_FILE));
    const err = await expectTyped(openSession(d), 'SESSION_ERR_MISSING_FILE');
    expect(err.message).toMatch(/steps\.jsonl, output\.wav/);
    const s = await openSession(d, { allowMissing: true });
    expect(await all(s.packets())).toHaveLength(6);
    await expectTyped(s.wav('output'), 'SESSION_ERR_MISSING_FILE');
    await expectTyped(all(s.steps()), 'SESSION_ERR_MISSING_FILE');
    const noManifest = copy('no-manifest.session');
    unlinkSync(join(noManifest, MANIFEST_FILE));
    expect((await expectTyped(openSession(noManifest), 'SESSION_ERR_MISSING_FILE')).file).toBe(MANIFEST_FILE);
  });

  it('a WAV of another format is refused, naming what it is', async () => {
    const d = copy('wav16.session');
    const buf = readFileSync(join(d, INPUT_WAV));
    buf.writeUInt16LE(1, 20);
    buf.writeUInt16LE(16, 34);
    writeFileSync(join(d, INPUT_WAV), buf);
    const err = await expectTyped((await openSession(d)).wav('input'), 'SESSION_ERR_CORRUPT');
    expect(err.message).toMatch(/16-bit format-1 at 24000 Hz; a session WAV is float32 mono 24000 Hz/);
  });

  it('the writer refuses an existing session, an unwritable place and bad records', async () => {
    await expectTyped(SessionWriter.create(dir, testInit()), 'SESSION_ERR_EXISTS');
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    await expectTyped(SessionWriter.create(join(file, 'x.session'), testInit()), 'SESSION_ERR_UNWRITABLE');
    await expectTyped(SessionWriter.create(join(tmp, 'bad-init.session'), { ...testInit(), seed: NaN }), 'SESSION_ERR_INVALID');
    const w = await SessionWriter.create(join(tmp, 'args.session'), testInit());
    const step: StepRecord = { step: 1, timeMs: 0, inputCodes: [], text: null, textPiece: null, audioCodes: null, pcmHash: null, events: [], spans: {} };
    expect(() => w.appendPacket(2 as 0, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'SESSION_ERR_INVALID' }));
    expect(() => w.appendPacket(0, new Uint8Array(1), NaN)).toThrow(/capture time/);
    expect(() => w.appendStep(step, new Float32Array(100), null)).toThrow(/1920 samples/);
    expect(() => w.appendStep(step, new Float32Array(1920), new Float32Array(1920))).toThrow(/pcmHash must be null exactly when/);
    w.appendStep(step, new Float32Array(1920), null);
    expect(() => w.appendStep({ ...step, step: 1 }, new Float32Array(1920), null)).toThrow(/step indices must increase/);
    expect((await w.close()).status).toBe('complete');
    w.appendPacket(0, new Uint8Array(1));
    expect(w.stats.dropped).toBe(1);
  });

  it('a read-only file system is SESSION_ERR_UNWRITABLE at once', async () => {
    if (process.getuid?.() !== 0) {
      // Root ignores permission bits, so the non-root path is the one chmod can exercise.
      const ro = join(tmp, 'ro');
      mkdirSync(ro, { mode: 0o555 });
      await expectTyped(SessionWriter.create(join(ro, 'x.session'), testInit()), 'SESSION_ERR_UNWRITABLE');
      return;
    }
    const ro = mkdtempSync(join(tmp, 'rofs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]);
    try {
      const err = await expectTyped(SessionWriter.create(join(ro, 'x.session'), testInit()), 'SESSION_ERR_UNWRITABLE');
      expect(err.errno).toBe('EROFS');
    } finally {
      execFileSync('umount', [ro]);
    }
  });
});

describe('browser adapters', () => {
  let dir: string;
  let expected: Awaited<ReturnType<typeof contents>>;
  beforeAll(async () => {
    dir = join(tmp, 'drop.session');
    await record(dir, 6);
    expected = await contents(await openSession(dir));
  });

  it('a dropped folder (Files with webkitRelativePath) reads the same as the folder on disk', async () => {
    const files = [MANIFEST_FILE, PACKETS_FILE, STEPS_FILE, INPUT_WAV, OUTPUT_WAV, 'notes.txt'].map((name) => {
      const f = new File([name === 'notes.txt' ? 'x' : readFileSync(join(dir, name))], name);
      Object.defineProperty(f, 'webkitRelativePath', { value: `drop.session/${name}` });
      return f;
    });
    const sessions = sessionsFromFiles(files);
    expect([...sessions.keys()]).toEqual(['drop.session']);
    expect(await contents(await openSessionFiles(sessions.get('drop.session')!))).toEqual(expected);
    const flat = blobSessionFiles(Object.fromEntries(files.map((f) => [f.name, f])));
    expect((await contents(await openSessionFiles(flat))).steps).toEqual(expected.steps);
  });

  it.each([['deflated', '-9'], ['stored', '-0']])('a %s zip of the folder reads the same, from a Blob and from disk', async (_, level) => {
    const zip = join(tmp, `drop${level}.zip`);
    execFileSync('zip', ['-q', '-r', level, zip, 'drop.session'], { cwd: tmp });
    const sessions = await sessionsFromZip(new Blob([readFileSync(zip)]), 'drop.zip');
    expect([...sessions.keys()]).toEqual(['drop.session']);
    const s = await openSessionFiles(sessions.get('drop.session')!);
    expect(await contents(s)).toEqual(expected);
    expect(await (await s.wav('output')).readFrame(4)).toEqual(expected.output[4]);
    expect((await contents(await openSession(zip))).packets).toEqual(expected.packets);
  });

  it('a zip whose entry does not match its CRC is SESSION_ERR_CORRUPT', async () => {
    const zip = join(tmp, 'damaged.zip');
    execFileSync('zip', ['-q', '-r', '-0', zip, 'drop.session'], { cwd: tmp });
    const buf = readFileSync(zip);
    const at = buf.indexOf(Buffer.from('"solacelive.session"'));
    buf[at + 2] = 'X'.charCodeAt(0);
    const s = (await sessionsFromZip(new Blob([buf]), 'damaged.zip')).get('drop.session')!;
    const chunks: Uint8Array[] = [];
    await expectTyped((async () => { for await (const c of s.stream(MANIFEST_FILE)) chunks.push(c); })(), 'SESSION_ERR_CORRUPT');
  });
});
