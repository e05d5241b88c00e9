// A full disk, for real: a 256 KiB tmpfs (needs root) or, failing that, a file-size rlimit in a
// child process (EFBIG). Never skipped: if neither can be set up the test fails and says why.
// Both writers: SessionWriter on the caller's loop, ThreadedSessionWriter (the recorder's) in
// its thread, which must report the same errors and keep the same data.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionWriter, ThreadedSessionWriter, openSession } from '../../../harness/format/node.ts';
import type { SessionError, StepRecord } from '../../../harness/format/node.ts';
import { makeStep, rng, testInit } from './session-fixtures.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'solacelive-full-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Kind = 'SessionWriter' | 'ThreadedSessionWriter';
const KINDS: readonly Kind[] = ['SessionWriter', 'ThreadedSessionWriter'];
const create = (kind: Kind, dir: string, onError: (e: SessionError) => void) => (kind === 'SessionWriter' ? SessionWriter : ThreadedSessionWriter).create(dir, testInit(), { onError });

/** Appends steps (with their packets) until the writer stops accepting them; returns what it accepted. */
async function fill(writer: SessionWriter | ThreadedSessionWriter, limit = 2000): Promise<StepRecord[]> {
  const random = rng(3);
  const accepted: StepRecord[] = [];
  for (let i = 0; i < limit && writer.state === 'open'; i++) {
    const s = makeStep(i, i * 80, random);
    for (const p of s.packets) writer.appendPacket(p.direction, p.bytes, p.timeMs);
    writer.appendStep(s.record, s.input, s.output);
    if (writer.state === 'open') accepted.push(s.record);
    await writer.flush();
  }
  return accepted;
}

/** What must hold after the disk filled: a typed error, and everything before it readable. */
async function checkAfterwards(dir: string, accepted: number, expectedSteps: readonly StepRecord[]): Promise<void> {
  const s = await openSession(dir);
  expect(['recording', 'failed']).toContain(s.manifest.status);
  const steps: StepRecord[] = [];
  for await (const { offset: _, ...r } of s.steps()) steps.push(r);
  // All but at most the step in flight when the disk filled.
  expect(steps.length).toBeGreaterThanOrEqual(accepted - 1);
  expect(steps).toEqual(expectedSteps.slice(0, steps.length));
  const report = await s.scan();
  expect(report.wholeSteps).toBeGreaterThanOrEqual(Math.min(accepted - 1, report.steps.count) - 1);
  expect(report.recoveries.every((r) => r.code !== 'SESSION_ERR_CORRUPT')).toBe(true);
}

function mountTmpfs(dir: string): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`;
  }
}

/** Runs a recording in a child whose files may not exceed `kib` KiB; returns its result. */
function recordUnderFileLimit(dir: string, kib: number, kind: Kind): { accepted: number; error: { code: string; errno: string } | null; close: string; dropped: number } {
  const script = join(tmp, `child-${kind}.ts`);
  const here = resolve(import.meta.dirname);
  writeFileSync(script, `
    import { ${kind} as Writer } from ${JSON.stringify(resolve(here, '../../../harness/format/node.ts'))};
    import { makeStep, rng, testInit } from ${JSON.stringify(resolve(here, 'session-fixtures.ts'))};
    const w = await Writer.create(process.argv[2], testInit());
    const random = rng(3);
    let accepted = 0;
    for (let i = 0; i < 2000 && w.state === 'open'; i++) {
      const s = makeStep(i, i * 80, random);
      for (const p of s.packets) w.appendPacket(p.direction, p.bytes, p.timeMs);
      w.appendStep(s.record, s.input, s.output);
      if (w.state === 'open') accepted++;
      await w.flush();
    }
    w.appendPacket(0, new Uint8Array(4), 0);
    const r = await w.close();
    console.log(JSON.stringify({ accepted, error: r.error && { code: r.error.code, errno: r.error.errno }, close: r.status, dropped: r.dropped }));
  `);
  const child = spawnSync('bash', ['-c', `ulimit -f ${kib} && exec "$0" "$@"`, process.execPath, script, dir], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`cannot test a full disk: neither tmpfs nor a file-size limit worked (child exited ${child.status}: ${child.stderr.trim()})`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!);
}

describe('disk full', () => {
  it.each(KINDS)('%s reports SESSION_ERR_DISK_FULL, drops later appends, and keeps earlier data readable', async (kind) => {
    const mnt = mkdtempSync(join(tmp, 'tmpfs-'));
    const why = mountTmpfs(mnt);
    if (why !== null) {
      // Fallback named in the output so nobody mistakes it for the tmpfs run.
      console.warn(`disk-full test: ${why}; using a file-size limit (ulimit -f) instead`);
      const dir = join(tmp, `limited-${kind}.session`);
      const r = recordUnderFileLimit(dir, 128, kind);
      expect(r.error).toEqual({ code: 'SESSION_ERR_DISK_FULL', errno: 'EFBIG' });
      expect(r.close).toBe('failed');
      expect(r.dropped).toBe(1);
      const expected: StepRecord[] = [];
      const random = rng(3);
      for (let i = 0; i < r.accepted + 1; i++) expected.push(makeStep(i, i * 80, random).record);
      await checkAfterwards(dir, r.accepted, expected);
      return;
    }
    try {
      const errors: SessionError[] = [];
      const dir = join(mnt, 'full.session');
      const writer = await create(kind, dir, (e) => errors.push(e));
      const accepted = await fill(writer);
      expect(writer.state).toBe('failed');
      expect(writer.error).toMatchObject({ code: 'SESSION_ERR_DISK_FULL', errno: 'ENOSPC' });
      expect(writer.error?.message).toMatch(/no space left/);
      expect(errors).toHaveLength(1);
      expect(accepted.length).toBeGreaterThan(3);
      writer.appendPacket(0, new Uint8Array(4), 0);
      expect(writer.stats.dropped).toBe(1);
      const closed = await writer.close();
      expect(closed).toMatchObject({ status: 'failed', error: { code: 'SESSION_ERR_DISK_FULL' } });
      await checkAfterwards(dir, accepted.length, accepted);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it.each(KINDS)('%s: a file-size limit (EFBIG, any OS, no root) is reported as disk full too', async (kind) => {
    const dir = join(tmp, `efbig-${kind}.session`);
    const r = recordUnderFileLimit(dir, 96, kind);
    expect(r.error).toEqual({ code: 'SESSION_ERR_DISK_FULL', errno: 'EFBIG' });
    expect(r.close).toBe('failed');
    expect(r.accepted).toBeGreaterThan(3);
    const expected: StepRecord[] = [];
    const random = rng(3);
    for (let i = 0; i < r.accepted + 1; i++) expected.push(makeStep(i, i * 80, random).record);
    await checkAfterwards(dir, r.accepted, expected);
    const s = await openSession(dir);
    expect(s.manifest.status).toBe('failed');
    expect(s.manifest.error).toMatchObject({ code: 'SESSION_ERR_DISK_FULL' });
  });
});
