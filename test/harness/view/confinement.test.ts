// What the view server reads stays inside the sessions folder, as the file API promises: a
// replays/ entry (or replays/ itself) that links out, a link to /dev/zero, a manifest that
// links to a passwd-like file, oversized results, special files and a file swapped between
// check and open. Each case is checked where a request reaches it: the replay API, the list.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestReplayResult, saveReplayResult, startViewServer, type ReplayResult, type ViewServer } from '../../../harness/view/index.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const PASSWD = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';
const MARK = 'OUTSIDE-RESULT-MUST-NOT-BE-SERVED';

let root: string, sessions: string, server: ViewServer;

function result(verdict: string, at: string, kind: ReplayResult['kind'] = 'replay'): ReplayResult {
  return {
    kind, at, verdict, expected: 'bit-exact', ok: true, fingerprintDiffs: [], labels: ['recorded', 'replayed'], stepsReplayed: 25,
    comparison: { kind: 'bit-exact', verdict: 'bit-exact', steps: 25, firstPcmDiff: null, divergedAt: null, diffs: [], before: [], at: null, after: [] },
  };
}

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function session(name: string): Promise<string> {
  const dir = join(sessions, name);
  await cp(FIXTURE, dir, { recursive: true });
  return dir;
}

interface Entry { name: string; aliases?: string[]; steps: number; replay: { verdict: string } | null; error: { code: string; message: string } | null }
const list = async () => (JSON.parse((await get('/api/sessions')).body) as { sessions: Entry[] }).sessions;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'view-confine-'));
  sessions = join(root, 'sessions');
  await mkdir(sessions);
  const outside = join(root, 'outside');
  await mkdir(join(outside, 'replays'), { recursive: true });
  await writeFile(join(outside, 'result.json'), JSON.stringify(result(MARK, '2030-01-01T00:00:00.000Z')));
  await writeFile(join(outside, 'replays', '20300101T000000Z-replay.json'), JSON.stringify(result(MARK, '2030-01-01T00:00:00.000Z')));
  await writeFile(join(root, 'passwd'), PASSWD);

  // A link in replays/ to a result outside, newer than the session's own result.
  const a = await session('link-in-replays.session');
  await saveReplayResult(a, result('bit-exact', '2026-01-01T00:00:00.000Z'));
  await symlink(join(outside, 'result.json'), join(a, 'replays', '20300101T000000Z-replay.json'));
  // replays/ itself a link to a folder outside.
  const b = await session('replays-dir-link.session');
  await symlink(join(outside, 'replays'), join(b, 'replays'));
  // A link to /dev/zero as the newest result.
  const c = await session('dev-zero.session');
  await mkdir(join(c, 'replays'));
  await symlink('/dev/zero', join(c, 'replays', '20300101T000000Z-replay.json'));
  // manifest.json a link to a passwd-like file outside.
  const d = await session('manifest-link.session');
  await rm(join(d, 'manifest.json'));
  await symlink(join(root, 'passwd'), join(d, 'manifest.json'));
  // A manifest inside the folder holding passwd-like bytes: its error must not quote them.
  const e = await session('manifest-garbage.session');
  await writeFile(join(e, 'manifest.json'), PASSWD);
  // A result far larger than any result is: not read into memory.
  const f = await session('huge-result.session');
  await saveReplayResult(f, { ...result('bit-exact', '2030-01-01T00:00:00.000Z'), labels: ['recorded', 'x'.repeat(4 * 1024 * 1024)] });
  // A FIFO where a session file should be: nothing may block on it.
  const g = await session('fifo.session');
  await rm(join(g, 'output.wav'));
  execFileSync('mkfifo', [join(g, 'output.wav')]);
  await mkdir(join(g, 'replays'));
  execFileSync('mkfifo', [join(g, 'replays', '20300101T000000Z-replay.json')]);
  server = await startViewServer({ sessionsDir: sessions, port: 0 });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('view server reads stay inside the sessions folder', () => {
  it('does not serve or list a replay result that is a link out of the folder', async () => {
    const r = await get('/api/sessions/link-in-replays.session/replay');
    expect(r.body).not.toContain(MARK);
    expect(r.status).toBe(200); // the session's own result, the older one
    expect((JSON.parse(r.body) as ReplayResult).at).toBe('2026-01-01T00:00:00.000Z');
    expect((await list()).find((s) => s.name === 'link-in-replays.session')!.replay?.verdict).toBe('bit-exact');
  });

  it('does not follow replays/ when it is itself a link out of the folder', async () => {
    const r = await get('/api/sessions/replays-dir-link.session/replay');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain(MARK);
    expect((await list()).find((s) => s.name === 'replays-dir-link.session')!.replay).toBeNull();
    expect(await latestReplayResult(join(sessions, 'replays-dir-link.session'))).toBeNull();
  });

  it('answers a replay result linked to /dev/zero at once, without reading it', async () => {
    const peakBefore = process.resourceUsage().maxRSS;
    const t0 = performance.now();
    const r = await get('/api/sessions/dev-zero.session/replay');
    expect(r.status).toBe(404);
    expect(performance.now() - t0).toBeLessThan(5000);
    await list();
    // Peak resident memory (KiB): reading /dev/zero as a file took ~600 MB per request.
    expect(process.resourceUsage().maxRSS - peakBefore).toBeLessThan(100 * 1024);
  });

  it('lists a session whose manifest links out as refused, without a byte of the target', async () => {
    const e = (await list()).find((s) => s.name === 'manifest-link.session')!;
    expect(e.error?.code).toBe('VIEW_ERR_PATH');
    expect(e.error?.message).toContain('manifest.json');
    expect(JSON.stringify(e)).not.toMatch(/root|daemon|bash/);
    const r = await get('/api/sessions/manifest-link.session/manifest.json');
    expect(r.status).toBe(403);
    expect(r.body).not.toMatch(/root|daemon/);
  });

  it('never quotes a damaged manifest in the list', async () => {
    const e = (await list()).find((s) => s.name === 'manifest-garbage.session')!;
    expect(e.error?.code).toBe('SESSION_ERR_CORRUPT');
    expect(e.error?.message).toContain('manifest.json');
    expect(JSON.stringify(e)).not.toMatch(/root|daemon|bash/);
  });

  it('does not read a result larger than any result into memory', async () => {
    expect((await get('/api/sessions/huge-result.session/replay')).status).toBe(404);
    expect((await list()).find((s) => s.name === 'huge-result.session')!.replay).toBeNull();
  });

  it('refuses FIFOs in a session without blocking on them', async () => {
    const t0 = performance.now();
    expect((await get('/api/sessions/fifo.session/output.wav')).status).toBe(403);
    expect((await get('/api/sessions/fifo.session/replay')).status).toBe(404);
    const e = (await list()).find((s) => s.name === 'fifo.session')!;
    expect(e.error?.code).toBe('VIEW_ERR_PATH');
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('lists a session reached under two names once, under its own folder name', async () => {
    await session('real.session');
    await symlink(join(sessions, 'real.session'), join(sessions, 'alias.session'));
    try {
      const rows = (await list()).filter((s) => s.name === 'real.session' || s.name === 'alias.session' || s.aliases?.includes('alias.session'));
      expect(rows.map((s) => s.name)).toEqual(['real.session']);
      expect(rows[0]!.aliases).toEqual(['alias.session']);
      expect(rows[0]!.steps).toBe(25);
    } finally {
      await rm(join(sessions, 'alias.session'));
      await rm(join(sessions, 'real.session'), { recursive: true });
    }
  });
});

describe('saving a replay result writes only inside the session folder', () => {
  it('refuses a replays/ that links out of the session folder, writing nothing there', async () => {
    const dir = await session('save-dir-link.session');
    const target = join(root, 'save-target');
    await mkdir(target);
    await symlink(target, join(dir, 'replays'));
    await expect(saveReplayResult(dir, result('bit-exact', '2026-02-01T00:00:00.000Z'))).rejects.toMatchObject({ code: 'VIEW_ERR_PATH' });
    expect(await readdir(target)).toEqual([]);
  });

  it('does not write through a link planted under the temporary name', async () => {
    const dir = await session('save-tmp-link.session');
    await mkdir(join(dir, 'replays'));
    const victim = join(root, 'victim.txt');
    await writeFile(victim, 'keep me');
    // Both names a writer might use for its temporary file (with and without its pid).
    for (const tmp of ['20260201T000000Z-replay.json.tmp', `20260201T000000Z-replay.json.${process.pid}.tmp`]) await symlink(victim, join(dir, 'replays', tmp));
    const saved = saveReplayResult(dir, result('bit-exact', '2026-02-01T00:00:00.000Z'));
    await saved.catch(() => undefined);
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    await expect(saved).rejects.toMatchObject({ code: 'EEXIST' });
  });
});

describe('opening a checked file', async () => {
  const { openChecked, openInside } = await import('../../../harness/view/safe-path.ts');
  const swapped = async (replace: (path: string) => Promise<void>) => {
    const dir = join(root, `swap-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir);
    const path = join(dir, 'steps.jsonl');
    await writeFile(path, 'checked');
    const checked = await stat(path);
    await replace(path);
    return openChecked(path, checked);
  };

  it('opens the file that was checked', async () => {
    const f = await swapped(async () => {});
    expect(f.size).toBe(7);
    await f.handle.close();
  });

  it('refuses a file swapped for a link out after the check', async () => {
    await expect(swapped(async (p) => {
      await rm(p);
      await symlink(join(root, 'passwd'), p);
    })).rejects.toMatchObject({ code: 'VIEW_ERR_PATH', reason: 'changed' });
  });

  it('refuses a file swapped for another regular file after the check', async () => {
    await expect(swapped(async (p) => {
      await writeFile(`${p}.new`, PASSWD);
      await rename(`${p}.new`, p);
    })).rejects.toMatchObject({ code: 'VIEW_ERR_PATH', reason: 'changed' });
  });

  it('refuses a FIFO swapped in after the check, without blocking', async () => {
    await expect(swapped(async (p) => {
      await rm(p);
      execFileSync('mkfifo', [p]);
    })).rejects.toMatchObject({ code: 'VIEW_ERR_PATH', reason: 'not-regular' });
  });

  it('refuses /dev/zero and links out when asked by path', async () => {
    await symlink('/dev/zero', join(sessions, 'zero'));
    try {
      await expect(openInside(sessions, ['zero'])).rejects.toMatchObject({ reason: 'outside' });
      await expect(openInside('/dev', ['zero'])).rejects.toMatchObject({ reason: 'not-regular' });
    } finally {
      await rm(join(sessions, 'zero'));
    }
  });
});
