// Hub download against a local HTTP server on 127.0.0.1 that serves generated files in
// the hub's URL layout (tree API, /resolve/ with ranges, ETag = sha256 or git sha1,
// X-Repo-Commit): cache layout, resume, checksum, token handling, offline errors.
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { basename } from 'node:path';
import { resolveHubModel } from '../../../src/engine/models.ts';
import { cachedFile, KNOWN_REPOS, pullFile, pullRepo, repoCacheDir, repoPlan, type HubOptions, type Quant } from '../../../src/models/lm/hub.ts';

const REPO = 'kyutai/moshiko-mlx-q4';
const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const TOKEN = 'hf_SecretTestToken123';
const FILES: Record<string, Buffer> = {
  'model.q4.safetensors': randomBytes(300_000),
  'model.safetensors': randomBytes(1000),
  'tokenizer_spm_32k_3.model': randomBytes(5000),
  'tokenizer-e351c8d8-checkpoint125.safetensors': randomBytes(20_000),
  'config.json': Buffer.from('{"dim": 4096}\n'),
  'README.md': Buffer.from('# model card\n'),
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
// Large files are LFS (ETag = sha256); small text files are plain git (ETag = blob sha1).
const etag = (name: string) => (name.endsWith('.json') || name.endsWith('.md') ? gitSha1(FILES[name]!) : sha256(FILES[name]!));

interface Behaviour {
  requireToken: boolean;
  cutAfter: number | null;
  corrupt: boolean;
}
const behaviour: Behaviour = { requireToken: false, cutAfter: null, corrupt: false };
const requests: { url: string; range?: string; auth?: string }[] = [];

function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  requests.push({ url: req.url!, range: req.headers.range, auth: req.headers.authorization });
  if (behaviour.requireToken && req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'Invalid credentials' }));
    return;
  }
  const url = new URL(req.url!, 'http://x');
  if (url.pathname === `/api/models/${REPO}/tree/main`) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(Object.entries(FILES).map(([path, b]) => ({ type: 'file', path, size: b.length, oid: gitSha1(b) }))));
    return;
  }
  const prefix = `/${REPO}/resolve/main/`;
  const name = url.pathname.startsWith(prefix) ? decodeURIComponent(url.pathname.slice(prefix.length)) : null;
  const body = name ? FILES[name] : undefined;
  if (!name || !body) {
    res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('not found');
    return;
  }
  const data = behaviour.corrupt ? Buffer.from(body.map((x, i) => (i === 7 ? x ^ 1 : x))) : body;
  const headers = { ETag: `"${etag(name)}"`, 'X-Repo-Commit': COMMIT, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (m) {
    const start = Number(m[1]);
    const end = m[2] ? Number(m[2]) : data.length - 1;
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${data.length}`, 'Content-Length': end - start + 1 });
    res.end(data.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': data.length });
  if (behaviour.cutAfter !== null) {
    const n = behaviour.cutAfter;
    behaviour.cutAfter = null;
    res.write(data.subarray(0, n), () => setTimeout(() => res.destroy(), 20));
    return;
  }
  res.end(data);
}

let server: Server;
let hubUrl = '';
let cacheDir = '';
const root = mkdtempSync(join(tmpdir(), 'solacelive-hub-'));
const lines: string[] = [];
const opts = (extra: Partial<HubOptions> = {}): HubOptions => ({ repo: REPO, hubUrl, cacheDir, token: '', progress: (l) => lines.push(l), ...extra });

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
beforeEach(() => {
  cacheDir = join(root, `cache${n++}`);
  Object.assign(behaviour, { requireToken: false, cutAfter: null, corrupt: false });
  requests.length = 0;
  lines.length = 0;
});

describe('weights pull from a hub', () => {
  it('pulls the q4 weights, tokenizer, Mimi and config into the HF cache layout, then finds them cached', async () => {
    const got = await pullRepo(opts(), 'q4');
    expect(got.map((f) => f.path).sort()).toEqual(['config.json', 'model.q4.safetensors', 'tokenizer-e351c8d8-checkpoint125.safetensors', 'tokenizer_spm_32k_3.model']);
    const repoDir = repoCacheDir(REPO, cacheDir);
    expect(repoDir).toBe(join(cacheDir, 'models--kyutai--moshiko-mlx-q4'));
    for (const f of got) {
      expect(readFileSync(f.localPath).equals(FILES[f.path]!)).toBe(true);
      expect(f.localPath).toBe(join(repoDir, 'snapshots', COMMIT, f.path));
      expect(lstatSync(f.localPath).isSymbolicLink()).toBe(true);
      expect(readlinkSync(f.localPath)).toBe(`../../blobs/${etag(f.path)}`);
      expect(f.cached).toBe(false);
    }
    expect(got.find((f) => f.path === 'model.q4.safetensors')!.checksum).toBe(`sha256:${sha256(FILES['model.q4.safetensors']!)}`);
    expect(got.find((f) => f.path === 'config.json')!.checksum).toBe(`sha1:${gitSha1(FILES['config.json']!)}`);
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    expect(lines.at(-1)).toMatch(/100\.0%/);

    requests.length = 0;
    const again = await pullRepo(opts(), 'q4');
    expect(again.every((f) => f.cached)).toBe(true);
    // Only the tree listing and the 1-byte info probes: no file body is sent again.
    expect(requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.range === 'bytes=0-0')).toBe(true);
    expect(cachedFile(REPO, 'model.q4.safetensors', { cacheDir })).toBe(join(repoDir, 'snapshots', COMMIT, 'model.q4.safetensors'));
  });

  it('asks for a missing quantization by name and lists what the repo has', async () => {
    await expect(pullRepo(opts(), 'q8')).rejects.toThrow(/has no model\.q8\.safetensors; its safetensors files: model\.q4\.safetensors, model\.safetensors/);
  });

  it('resumes an interrupted download from the partial blob with a range request', async () => {
    behaviour.cutAfter = 100_000;
    await expect(pullFile(opts(), 'model.q4.safetensors')).rejects.toMatchObject({ code: 'HUB_ERR_HTTP', message: expect.stringMatching(/interrupted.*run the command again to resume/) });
    const partial = join(repoCacheDir(REPO, cacheDir), 'blobs', `${etag('model.q4.safetensors')}.incomplete`);
    const have = statSync(partial).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(300_000);
    requests.length = 0;
    const f = await pullFile(opts(), 'model.q4.safetensors');
    expect(requests.map((r) => r.range)).toContain(`bytes=${have}-`);
    expect(readFileSync(f.localPath).equals(FILES['model.q4.safetensors']!)).toBe(true);
    expect(existsSync(partial)).toBe(false);
    expect(lines.at(-1)).toMatch(/\(resumed\)/);
  });

  it('rejects bytes whose sha256 is not the hub ETag and deletes them', async () => {
    behaviour.corrupt = true;
    await expect(pullFile(opts(), 'model.q4.safetensors')).rejects.toMatchObject({ code: 'HUB_ERR_CHECKSUM' });
    expect(existsSync(join(repoCacheDir(REPO, cacheDir), 'blobs', `${etag('model.q4.safetensors')}.incomplete`))).toBe(false);
  });

  it('sends HF_TOKEN as a bearer token and never prints it', async () => {
    behaviour.requireToken = true;
    const err = await pullFile(opts(), 'config.json').catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'HUB_ERR_AUTH', message: expect.stringMatching(/set HF_TOKEN/) });
    const saved = process.env.HF_TOKEN;
    process.env.HF_TOKEN = TOKEN;
    try {
      const f = await pullFile(opts({ token: undefined }), 'model.q4.safetensors');
      expect(f.cached).toBe(false);
      expect(requests.filter((r) => r.auth === `Bearer ${TOKEN}`).length).toBeGreaterThanOrEqual(2);
      const err2 = await pullFile(opts({ token: undefined }), 'missing.bin').catch((e: Error) => e);
      expect(String(err2)).not.toContain(TOKEN);
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
    }
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(String(err)).not.toContain(TOKEN);
  });

  it('offline: names the files, the repo and the cache folder to fill by hand, then uses a file put there', async () => {
    const dead = 'http://127.0.0.1:9';
    const err = await pullRepo(opts({ hubUrl: dead }), 'q4').catch((e: Error) => e);
    const folder = join(repoCacheDir(REPO, cacheDir), 'snapshots', 'manual');
    expect(err).toMatchObject({ code: 'HUB_ERR_OFFLINE' });
    expect((err as Error).message).toContain('model.q4.safetensors');
    expect((err as Error).message).toContain(REPO);
    expect((err as Error).message).toContain(folder);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'model.q4.safetensors'), FILES['model.q4.safetensors']!);
    const f = await pullFile(opts({ hubUrl: dead }), 'model.q4.safetensors');
    expect(f).toMatchObject({ cached: true, localPath: join(folder, 'model.q4.safetensors') });
    await expect(pullFile(opts({ hubUrl: dead }), 'config.json')).rejects.toMatchObject({ code: 'HUB_ERR_OFFLINE' });
  });
});

describe('solacelive weights pull (spawned)', () => {
  const bin = fileURLToPath(new URL('../../../bin/solacelive.mjs', import.meta.url));
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const { spawn } = await import('node:child_process');
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [bin, 'weights', ...args], { env: { ...process.env, ...env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d));
      p.stderr.on('data', (d: Buffer) => (stderr += d));
      p.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  };

  it('downloads with a progress bar on stderr, then reports the files cached; offline it still serves them', async () => {
    const first = await cli(['pull', REPO, '--quant', 'q4', '--cache-dir', cacheDir, '--hub-url', hubUrl], { HF_TOKEN: TOKEN });
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/model\.q4\.safetensors \[#+\] 100\.0%/);
    expect(first.stdout).toMatch(/downloaded\s+\S+model\.q4\.safetensors\s+\(300000 bytes, sha256 ok\)/);
    expect(first.stdout + first.stderr).not.toContain(TOKEN);
    const offline = await cli(['pull', REPO, '--quant', 'q4', '--cache-dir', cacheDir, '--hub-url', 'http://127.0.0.1:9']);
    expect(offline.status).toBe(0);
    expect(offline.stdout).toMatch(/cached\s+\S+tokenizer_spm_32k_3\.model/);
  });

  it('exits 1 with the offline explanation when nothing is cached, 2 on usage errors', async () => {
    const r = await cli(['pull', REPO, '--cache-dir', cacheDir, '--hub-url', 'http://127.0.0.1:9']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[HUB_ERR_OFFLINE]');
    expect(r.stderr).toContain(join(cacheDir, 'models--kyutai--moshiko-mlx-q4', 'snapshots', 'manual'));
    expect((await cli(['pull', REPO, '--quant', 'q3'])).status).toBe(2);
  });

  it('with no --quant pulls what the repo name says (q4 for …-q4), which is what --model <repo> then finds', async () => {
    const r = await cli(['pull', REPO, '--cache-dir', cacheDir, '--hub-url', hubUrl]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/downloaded\s+\S+model\.q4\.safetensors/);
    expect(r.stdout).not.toMatch(/model\.safetensors/);
    expect(basename(resolveHubModel(REPO, cacheDir).lmWeights)).toBe('model.q4.safetensors');
    const dry = await cli(['pull', 'kyutai/moshika-mlx-bf16', '--dry-run', '--cache-dir', cacheDir]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/\(float LM weights\)[^]*required\s+model\.safetensors\n\s+required\s+tokenizer-e351c8d8-checkpoint125\.safetensors/);
  });
});

describe('pull plan and cache lookup agree (offline: no hub is asked)', () => {
  it.each(KNOWN_REPOS.flatMap((repo) => [undefined, 'q4', 'q8', null].map((q) => [repo, q] as const)))('%s with quant %s', async (repo, quant) => {
    const plan = repoPlan(repo, quant as Quant | null | undefined);
    // Exactly the planned files, put where a pull puts them; then the offline pull and the
    // lookup `serve --model` does must both be satisfied by them and name the same LM file.
    const snap = join(repoCacheDir(repo, cacheDir), 'snapshots', 'c0ffee');
    mkdirSync(snap, { recursive: true });
    for (const f of [...plan.required, ...plan.optional]) writeFileSync(join(snap, f), f);
    const pulled = await pullRepo(opts({ repo, hubUrl: 'http://127.0.0.1:9', progress: null }), quant as Quant | null | undefined);
    expect(pulled.map((f) => f.path)).toEqual([...plan.required, ...plan.optional]);
    const spec = resolveHubModel(repo, cacheDir);
    expect(basename(spec.lmWeights)).toBe(plan.lmWeights);
    expect([spec.mimiWeights, spec.tokenizer, spec.lmConfig].map((p) => p && basename(p))).toEqual([plan.mimiWeights, plan.tokenizer, 'config.json']);
    if (quant === undefined) expect(plan.quant).toBe(/-q4$/.test(repo) ? 'q4' : /-q8$/.test(repo) ? 'q8' : null);
  });
});
