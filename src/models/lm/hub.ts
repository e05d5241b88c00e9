// Checkpoint download from the Hugging Face hub into its standard cache layout
// (`<cache>/models--owner--name/{blobs,snapshots/<commit>,refs}`, the cache Python's
// huggingface_hub uses too). @huggingface/hub resolves the files (tree listing, size,
// ETag); the transfer itself is a plain ranged GET so an interrupted download resumes
// from its `.incomplete` blob, with a progress bar on stderr and a checksum check
// (the ETag of an LFS file is its sha256; of a small git file, its git blob sha1).
// HF_TOKEN is sent as a bearer token and never printed.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileDownloadInfo, getHFHubCachePath, getRepoFolderName, listFiles } from '@huggingface/hub';
import { CodedError } from '../../errors.ts';

export type Quant = 'q4' | 'q8';

export type HubErrorCode = 'HUB_ERR_OFFLINE' | 'HUB_ERR_NOT_FOUND' | 'HUB_ERR_CHECKSUM' | 'HUB_ERR_HTTP' | 'HUB_ERR_AUTH';

export class HubError extends CodedError<HubErrorCode> {
  override readonly name = 'HubError';
}

export interface HubOptions {
  readonly repo: string;
  readonly revision?: string;
  /** Default: HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub. */
  readonly cacheDir?: string;
  /** Default: https://huggingface.co (tests point this at a local server). */
  readonly hubUrl?: string;
  /** Default: the HF_TOKEN environment variable. */
  readonly token?: string;
  readonly fetch?: typeof fetch;
  /** Progress sink; default: a bar on stderr. Pass null for silence. */
  readonly progress?: ((line: string, done: boolean) => void) | null;
}

export interface PulledFile {
  readonly path: string;
  readonly localPath: string;
  readonly size: number;
  /** True when the file was already in the cache and nothing was transferred. */
  readonly cached: boolean;
  readonly checksum: string | null;
}

const DEFAULT_HUB = 'https://huggingface.co';

/** The LM weight file name of a moshi_mlx repo for a quantization. */
export function modelFileFor(quant: Quant | null): string {
  return quant ? `model.${quant}.safetensors` : 'model.safetensors';
}

export const MIMI_CHECKPOINT = 'tokenizer-e351c8d8-checkpoint125.safetensors';
export const TEXT_TOKENIZER = 'tokenizer_spm_32k_3.model';
/** Fetched when the repo has it; else the model's default LM config is used. */
export const LM_CONFIG_FILE = 'config.json';

/** Kyutai's Moshi repos (what `weights pull` documents and tests plan for). */
export const KNOWN_REPOS: readonly string[] = [
  'kyutai/moshiko-mlx-q4', 'kyutai/moshiko-mlx-q8', 'kyutai/moshiko-mlx-bf16',
  'kyutai/moshika-mlx-q4', 'kyutai/moshika-mlx-q8', 'kyutai/moshika-mlx-bf16',
];

/** The quantization a repo's name says (…-q4, …-q8), or null for float weights. */
export function quantOfRepo(repo: string): Quant | null {
  return /-q4\b/.test(repo) ? 'q4' : /-q8\b/.test(repo) ? 'q8' : null;
}

/**
 * The files a Moshi repo is used through: what `weights pull` fetches and what a cache
 * lookup (`--model owner/name`) reads, from this one function so the two cannot disagree.
 * `quant` undefined = what the repo's name says.
 */
export interface RepoPlan {
  readonly repo: string;
  readonly quant: Quant | null;
  readonly lmWeights: string;
  readonly mimiWeights: string;
  readonly tokenizer: string;
  /** Files the model cannot run without, in fetch order. */
  readonly required: readonly string[];
  /** Files fetched when the repo has them (the text tokenizer only prints text). */
  readonly optional: readonly string[];
}

export function repoPlan(repo: string, quant?: Quant | null): RepoPlan {
  const q = quant === undefined ? quantOfRepo(repo) : quant;
  const lmWeights = modelFileFor(q);
  return { repo, quant: q, lmWeights, mimiWeights: MIMI_CHECKPOINT, tokenizer: TEXT_TOKENIZER, required: [lmWeights, MIMI_CHECKPOINT], optional: [TEXT_TOKENIZER, LM_CONFIG_FILE] };
}


export function repoCacheDir(repo: string, cacheDir = getHFHubCachePath()): string {
  return join(cacheDir, getRepoFolderName({ name: repo, type: 'model' }));
}

/** A file already in the cache: the snapshot of `revision`'s ref first, else any snapshot. */
export function cachedFile(repo: string, path: string, opts: { cacheDir?: string; revision?: string } = {}): string | null {
  const root = repoCacheDir(repo, opts.cacheDir);
  const snapshots = join(root, 'snapshots');
  if (!existsSync(snapshots)) return null;
  const refFile = join(root, 'refs', opts.revision ?? 'main');
  const preferred = existsSync(refFile) ? readFileSync(refFile, 'utf8').trim() : null;
  const dirs = readdirSync(snapshots);
  const order = preferred ? [preferred, ...dirs.filter((d) => d !== preferred)] : dirs;
  for (const d of order) {
    const p = join(snapshots, d, path);
    if (existsSync(p)) return p;
  }
  return null;
}

function tokenOf(opts: HubOptions): string | undefined {
  const t = opts.token ?? process.env.HF_TOKEN;
  return t ? t : undefined;
}

function isNetworkError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  const code = e.cause?.code ?? '';
  return e.name === 'TypeError' && /fetch failed/i.test(e.message ?? '') || /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|UND_ERR/.test(code);
}

function offlineError(opts: HubOptions, files: readonly string[], cause: unknown): HubError {
  const hub = opts.hubUrl ?? DEFAULT_HUB;
  const folder = join(repoCacheDir(opts.repo, opts.cacheDir), 'snapshots', 'manual');
  const why = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).message;
  return new HubError('HUB_ERR_OFFLINE',
    `cannot reach ${hub} (${why}) to download ${files.join(', ')} from ${opts.repo}. ` +
    `To use a copy obtained elsewhere, put ${files.length > 1 ? 'the files' : 'the file'} in ${folder}/ (create the folder), keeping ${files.length > 1 ? 'their names' : 'its name'}.`,
    { cause });
}

function httpError(opts: HubOptions, path: string, err: unknown): HubError {
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 401 || status === 403) {
    return new HubError('HUB_ERR_AUTH', `${opts.repo}/${path}: access denied (HTTP ${status}); set HF_TOKEN to a token that can read this repo (and accept its licence on the hub)`, { cause: err });
  }
  if (status === 404) return new HubError('HUB_ERR_NOT_FOUND', `${opts.repo} has no file ${path} (or the repo does not exist)`, { cause: err });
  return new HubError('HUB_ERR_HTTP', `${opts.repo}/${path}: ${(err as Error).message}`, { cause: err });
}

function stderrProgress(): (line: string, done: boolean) => void {
  const tty = process.stderr.isTTY;
  let lastDecile = -1;
  return (line, done) => {
    if (tty) {
      process.stderr.write(`\r${line}\x1b[K${done ? '\n' : ''}`);
      return;
    }
    const pct = /(\d+(?:\.\d+)?)%/.exec(line);
    const decile = pct ? Math.floor(Number(pct[1]) / 10) : -1;
    if (done || decile !== lastDecile) process.stderr.write(`${line}\n`);
    lastDecile = done ? -1 : decile;
  };
}

const fmtBytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);

async function hashFile(path: string, algo: 'sha256' | 'sha1', size: number): Promise<string> {
  const h = createHash(algo);
  if (algo === 'sha1') h.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function normEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Lists the files to fetch for a Moshi repo and quantization (default: the repo name's), asking the hub. */
export async function selectRepoFiles(opts: HubOptions, quant?: Quant | null): Promise<string[]> {
  const plan = repoPlan(opts.repo, quant);
  const names: string[] = [];
  try {
    for await (const f of listFiles({ repo: opts.repo, revision: opts.revision, hubUrl: opts.hubUrl, fetch: opts.fetch, accessToken: tokenOf(opts), recursive: true })) {
      if (f.type === 'file') names.push(f.path);
    }
  } catch (err) {
    if (isNetworkError(err)) throw offlineError(opts, plan.required, err);
    throw httpError(opts, '(file list)', err);
  }
  const missing = plan.required.filter((f) => !names.includes(f));
  if (missing.length) {
    const weights = names.filter((n) => n.endsWith('.safetensors'));
    throw new HubError('HUB_ERR_NOT_FOUND', `${opts.repo} has no ${missing.join(', ')}${plan.quant ? '' : ' (float weights)'}; its safetensors files: ${weights.join(', ') || 'none'}${plan.quant ? '' : ' (pass --quant q4 or q8?)'}`);
  }
  return [...plan.required, ...plan.optional.filter((f) => names.includes(f))];
}

/** Downloads one file into the cache (or finds it there); resumes a partial blob. */
export async function pullFile(opts: HubOptions, path: string): Promise<PulledFile> {
  const token = tokenOf(opts);
  const progress = opts.progress === undefined ? stderrProgress() : opts.progress;
  const doFetch = opts.fetch ?? fetch;
  let commit: string | null = null;
  // Wraps fetch to read X-Repo-Commit from the resolve response @huggingface/hub makes.
  const capturing: typeof fetch = async (input, init) => {
    const r = await doFetch(input, init);
    commit ??= r.headers.get('x-repo-commit');
    return r;
  };
  let info;
  try {
    info = await fileDownloadInfo({ repo: opts.repo, path, revision: opts.revision, hubUrl: opts.hubUrl, fetch: capturing, accessToken: token });
  } catch (err) {
    if (isNetworkError(err)) {
      const local = cachedFile(opts.repo, path, opts);
      if (local) return { path, localPath: local, size: statSync(local).size, cached: true, checksum: null };
      throw offlineError(opts, [path], err);
    }
    throw httpError(opts, path, err);
  }
  if (!info) throw new HubError('HUB_ERR_NOT_FOUND', `${opts.repo} has no file ${path}`);
  const etag = normEtag(info.etag);
  const root = repoCacheDir(opts.repo, opts.cacheDir);
  const blob = join(root, 'blobs', etag);
  const snapshotDir = join(root, 'snapshots', commit ?? opts.revision ?? 'main');
  const link = join(snapshotDir, path);
  const algo = /^[0-9a-f]{64}$/.test(etag) ? 'sha256' : /^[0-9a-f]{40}$/.test(etag) ? 'sha1' : null;

  const cached = existsSync(blob) && statSync(blob).size === info.size;
  if (!cached) {
    mkdirSync(dirname(blob), { recursive: true });
    const partial = `${blob}.incomplete`;
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > info.size) {
      rmSync(partial);
      have = 0;
    }
    if (have < info.size) await transfer(opts, path, info.url, partial, have, info.size, token, doFetch, progress);
    if (algo) {
      const digest = await hashFile(partial, algo, info.size);
      if (digest !== etag) {
        rmSync(partial);
        throw new HubError('HUB_ERR_CHECKSUM', `${opts.repo}/${path}: ${algo} ${digest} does not match the hub's ${etag}; the partial download was deleted, run the command again`);
      }
    }
    renameSync(partial, blob);
  }
  mkdirSync(dirname(link), { recursive: true });
  if (!existsSync(link)) symlinkSync(relative(dirname(link), blob), link);
  if (commit && opts.revision !== commit) {
    mkdirSync(join(root, 'refs'), { recursive: true });
    writeFileSync(join(root, 'refs', opts.revision ?? 'main'), commit);
  }
  return { path, localPath: link, size: info.size, cached, checksum: algo ? `${algo}:${etag}` : null };
}

async function transfer(opts: HubOptions, path: string, url: string, partial: string, start: number, size: number, token: string | undefined, doFetch: typeof fetch, progress: ((line: string, done: boolean) => void) | null): Promise<void> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (start > 0) headers.Range = `bytes=${start}-`;
  let resp: Response;
  try {
    resp = await doFetch(url, { headers, redirect: 'follow' });
  } catch (err) {
    if (isNetworkError(err)) throw offlineError(opts, [path], err);
    throw err;
  }
  if (resp.status === 401 || resp.status === 403 || resp.status === 404) throw httpError(opts, path, Object.assign(new Error(`HTTP ${resp.status}`), { statusCode: resp.status }));
  if (!resp.ok || !resp.body) throw new HubError('HUB_ERR_HTTP', `${opts.repo}/${path}: HTTP ${resp.status}`);
  // A server that ignores the range sends the whole file again: start over.
  const resumed = start > 0 && resp.status === 206;
  let done = resumed ? start : 0;
  const out = createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
  const t0 = performance.now();
  let lastReport = 0;
  const report = (final: boolean) => {
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? (done - (resumed ? start : 0)) / secs : 0;
    const pct = (100 * done) / size;
    const width = 24;
    const bar = '#'.repeat(Math.round((pct / 100) * width)).padEnd(width, '.');
    progress?.(`${path} [${bar}] ${pct.toFixed(1)}% ${fmtBytes(done)}/${fmtBytes(size)} ${fmtBytes(rate)}/s${resumed ? ' (resumed)' : ''}`, final);
  };
  try {
    for await (const chunk of resp.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      done += chunk.length;
      const now = performance.now();
      if (now - lastReport > 200) {
        lastReport = now;
        report(false);
      }
    }
  } catch (err) {
    await new Promise<void>((r) => out.end(() => r()));
    throw new HubError('HUB_ERR_HTTP', `${opts.repo}/${path}: download interrupted at ${fmtBytes(done)} of ${fmtBytes(size)} (${(err as Error).message}); run the command again to resume`, { cause: err });
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  if (done !== size) throw new HubError('HUB_ERR_HTTP', `${opts.repo}/${path}: got ${done} of ${size} bytes; run the command again to resume`);
  report(true);
}

/** Pulls a Moshi repo's LM weights (for a quantization; default: the repo name's), tokenizer and Mimi weights. */
export async function pullRepo(opts: HubOptions, quant?: Quant | null): Promise<PulledFile[]> {
  let files: string[];
  try {
    files = await selectRepoFiles(opts, quant);
  } catch (err) {
    if (!(err instanceof HubError) || err.code !== 'HUB_ERR_OFFLINE') throw err;
    // Offline: fine if everything is already in the cache (downloaded before, or put by hand).
    const plan = repoPlan(opts.repo, quant);
    const missing = plan.required.filter((f) => !cachedFile(opts.repo, f, opts));
    if (missing.length) throw offlineError(opts, missing, err.cause);
    const wanted = [...plan.required, ...plan.optional.filter((f) => cachedFile(opts.repo, f, opts))];
    const found = wanted.map((f) => cachedFile(opts.repo, f, opts));
    return wanted.map((path, i) => ({ path, localPath: found[i]!, size: statSync(found[i]!).size, cached: true, checksum: null }));
  }
  const out: PulledFile[] = [];
  for (const f of files) out.push(await pullFile(opts, f));
  return out;
}
