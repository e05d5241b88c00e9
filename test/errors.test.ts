// What CodedError (src/errors.ts) promises every typed error of the package: its own class's
// name (also once the viewer's bundler has minified the classes), instanceof the base and the
// class, its code, its cause, and the String/JSON/CLI shape users already see.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Rolldown } from 'vite';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CodedError, isCodedError } from '../src/errors.ts';
import { isProtocolError, ProtocolError } from '../src/protocol/errors.ts';
import { MoshiProtocolError } from '../src/protocol/moshi/message.ts';
import { AudioError, isAudioError } from '../src/audio/errors.ts';
import { isOggError, OggError } from '../src/audio/ogg/errors.ts';
import { isOpusError, OpusError } from '../src/audio/opus/errors.ts';
import { EngineError } from '../src/engine/errors.ts';
import { ServerOptionsError } from '../src/server/options.ts';
import { MimiError } from '../src/models/mimi/errors.ts';
import { HubError } from '../src/models/lm/hub.ts';
import { TokenizerError } from '../src/models/lm/tokenizer.ts';
import { LmGenError } from '../src/models/lm/generate.ts';
import { LmConfigError } from '../src/models/lm/config.ts';
import { LmNotLoadedError } from '../src/models/lm/lm.ts';
import { SamplingError } from '../src/models/lm/sampling.ts';
import { MlxLoadError } from '../src/models/mlx.ts';
import { WeightsError } from '../src/models/safetensors.ts';
import { CodesFileError } from '../src/cli/codec.ts';
import { CliError, UsageError } from '../src/cli/args.ts';
import { ClientError } from '../src/client/client.ts';
import { main } from '../src/cli.ts';
import * as solacelive from '../src/index.ts';
import { isSessionError, SessionError } from '../harness/format/errors.ts';
import { ReplayError } from '../harness/replayer.ts';
import { LoadtestError } from '../harness/loadtest/errors.ts';
import { ProxyFileError } from '../harness/view/proxied.ts';
import { NotJson, PathRefused } from '../harness/view/safe-path.ts';
import { ProxyError } from '../harness/proxy/errors.ts';
import { DashSessionError } from '../harness/dashboard/session.ts';
import { BenchError } from '../bench/lib/errors.ts';

const root = resolve(import.meta.dirname, '..');
const cause = new Error('the underlying failure');

interface Case {
  readonly cls: abstract new (...args: never[]) => Error;
  readonly err: Error & { readonly code: string };
  readonly message: string;
  /** Own enumerable properties in order (what JSON.stringify prints), `name` last as before. */
  readonly json: Record<string, unknown>;
  readonly cause?: unknown;
}

// One of each class, with its details filled in; `json` is what the class printed before CodedError.
const CASES: readonly Case[] = [
  { cls: ProtocolError, err: new ProtocolError('PKT_ERR_TRUNCATED', 'short', { offset: 17, index: 1, typeByte: 16 }), message: 'short', json: { code: 'PKT_ERR_TRUNCATED', offset: 17, index: 1, typeByte: 16, name: 'ProtocolError' } },
  { cls: MoshiProtocolError, err: new MoshiProtocolError('MOSHI_ERR_BAD_TEXT', 'not UTF-8', 2), message: 'not UTF-8', json: { code: 'MOSHI_ERR_BAD_TEXT', kindByte: 2, name: 'MoshiProtocolError' } },
  { cls: AudioError, err: new AudioError('AUDIO_ERR_IO', 'cannot read', { path: 'a.wav', offset: 44, channel: 1, index: 7, cause }), message: 'cannot read', cause, json: { code: 'AUDIO_ERR_IO', path: 'a.wav', offset: 44, channel: 1, index: 7, name: 'AudioError' } },
  { cls: OggError, err: new OggError('OGG_ERR_SEQUENCE', 'page lost', { offset: 300, sequence: 4, expected: 3, found: 4, cause }), message: 'page lost', cause, json: { code: 'OGG_ERR_SEQUENCE', offset: 300, sequence: 4, expected: 3, found: 4, name: 'OggError' } },
  { cls: OpusError, err: new OpusError('OPUS_ERR_DECODE', 'refused', { packet: 5, offset: 900, libopusCode: -4, found: 'x', cause }), message: 'refused', cause, json: { code: 'OPUS_ERR_DECODE', packet: 5, offset: 900, libopusCode: -4, found: 'x', name: 'OpusError' } },
  { cls: EngineError, err: new EngineError('ENGINE_ERR_CRASHED', 'worker died'), message: 'worker died', json: { code: 'ENGINE_ERR_CRASHED', name: 'EngineError' } },
  { cls: ServerOptionsError, err: new ServerOptionsError('SERVER_ERR_INSECURE_BIND', 'no token'), message: 'no token', json: { code: 'SERVER_ERR_INSECURE_BIND', name: 'ServerOptionsError' } },
  { cls: MimiError, err: new MimiError('MIMI_ERR_CODES', 'out of range'), message: 'out of range', json: { code: 'MIMI_ERR_CODES', name: 'MimiError' } },
  { cls: HubError, err: new HubError('HUB_ERR_OFFLINE', 'offline', { cause }), message: 'offline', cause, json: { code: 'HUB_ERR_OFFLINE', name: 'HubError' } },
  { cls: TokenizerError, err: new TokenizerError('bad proto'), message: 'bad proto', json: { code: 'TOKENIZER_ERR_FORMAT', name: 'TokenizerError' } },
  { cls: LmGenError, err: new LmGenError('LM_ERR_NON_FINITE', 'NaN'), message: 'NaN', json: { code: 'LM_ERR_NON_FINITE', name: 'LmGenError' } },
  { cls: LmConfigError, err: new LmConfigError('dim missing'), message: 'dim missing', json: { code: 'LM_ERR_CONFIG', name: 'LmConfigError' } },
  { cls: LmNotLoadedError, err: new LmNotLoadedError(), message: 'the Moshi LM has no weights loaded: load a checkpoint (loadLm) before calling it', json: { code: 'LM_ERR_NOT_LOADED', name: 'LmNotLoadedError' } },
  { cls: SamplingError, err: new SamplingError('sampling: text temperature must be a number in 0..100 (got -1)'), message: 'sampling: text temperature must be a number in 0..100 (got -1)', json: { code: 'LM_ERR_SAMPLING', name: 'SamplingError' } },
  { cls: MlxLoadError, err: new MlxLoadError('no BLAS', { cause }), message: 'no BLAS', cause, json: { code: 'MLX_ERR_LOAD', name: 'MlxLoadError' } },
  { cls: WeightsError, err: new WeightsError('WEIGHTS_ERR_HEADER', 'bad header', 'm.safetensors'), message: 'm.safetensors: bad header', json: { code: 'WEIGHTS_ERR_HEADER', file: 'm.safetensors', name: 'WeightsError' } },
  { cls: CodesFileError, err: new CodesFileError('c.json', 'n_q 9'), message: 'c.json: n_q 9', json: { code: 'CODEC_ERR_CODES_FILE', name: 'CodesFileError' } },
  { cls: UsageError, err: new UsageError('--in is required'), message: '--in is required', json: { code: 'CLI_ERR_USAGE', name: 'UsageError' } },
  { cls: CliError, err: new CliError('CLI_ERR_PORT', 'port busy', { cause }), message: 'port busy', cause, json: { code: 'CLI_ERR_PORT', name: 'CliError' } },
  { cls: ClientError, err: new ClientError('CLIENT_ERR_CONNECT', 'refused', 'ECONNREFUSED'), message: 'refused', json: { code: 'CLIENT_ERR_CONNECT', errno: 'ECONNREFUSED', name: 'ClientError' } },
  { cls: SessionError, err: new SessionError('SESSION_ERR_IO', 'disk', { file: 'steps.jsonl', offset: 9, length: 3, found: 2, supported: [1], errno: 'EIO', cause }), message: 'disk', cause, json: { code: 'SESSION_ERR_IO', file: 'steps.jsonl', offset: 9, length: 3, found: 2, supported: [1], errno: 'EIO', damage: [], name: 'SessionError' } },
  { cls: ReplayError, err: new ReplayError('REPLAY_ERR_MISMATCH', 'differs', ['weights']), message: 'differs', json: { code: 'REPLAY_ERR_MISMATCH', mismatches: ['weights'], name: 'ReplayError' } },
  { cls: LoadtestError, err: new LoadtestError('LOADTEST_ERR_URL', 'bad url'), message: 'bad url', json: { code: 'LOADTEST_ERR_URL', name: 'LoadtestError' } },
  { cls: ProxyFileError, err: new ProxyFileError('proxy.json is not JSON'), message: 'proxy.json is not JSON', json: { code: 'VIEW_ERR_PROXY_FILE', name: 'ProxyFileError' } },
  { cls: PathRefused, err: new PathRefused('no such file', 'missing'), message: 'no such file', json: { code: 'VIEW_ERR_PATH', reason: 'missing', name: 'PathRefused' } },
  { cls: NotJson, err: new NotJson('x.json is not valid JSON'), message: 'x.json is not valid JSON', json: { code: 'VIEW_ERR_NOT_JSON', name: 'NotJson' } },
  { cls: ProxyError, err: new ProxyError('PROXY_ERR_UPSTREAM', 'no upstream'), message: 'no upstream', json: { code: 'PROXY_ERR_UPSTREAM', name: 'ProxyError' } },
  { cls: DashSessionError, err: new DashSessionError('DASH_ERR_FIGURES', 'no figures'), message: 'no figures', json: { code: 'DASH_ERR_FIGURES', name: 'DashSessionError' } },
  { cls: BenchError, err: new BenchError('BENCH_ERR_BASELINE', 'bad baseline', { cause }), message: 'bad baseline', cause, json: { code: 'BENCH_ERR_BASELINE', name: 'BenchError' } },
];

describe('CodedError', () => {
  it.each(CASES.map((c) => [c.cls.name, c] as const))('%s: its own name, instanceof base and class, code, cause, String and JSON as before', (className, c) => {
    const { err } = c;
    expect(err.name).toBe(className);
    expect(err).toBeInstanceOf(c.cls);
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(c.json.code);
    expect(err.message).toBe(c.message);
    expect(String(err)).toBe(`${className}: ${c.message}`);
    expect(err.stack?.split('\n')[0]).toBe(`${className}: ${c.message}`);
    expect(JSON.stringify(err)).toBe(JSON.stringify(c.json));
    if (c.cause === undefined) expect('cause' in err).toBe(false);
    else expect(err.cause).toBe(c.cause);
  });

  it('the package entry exports the base, so a library user catches any of them by it', () => {
    const err = new solacelive.ProtocolError('PKT_ERR_EMPTY', 'empty');
    expect(err).toBeInstanceOf(solacelive.CodedError);
    expect(solacelive.isCodedError(err, solacelive.ProtocolError, 'PKT_ERR_EMPTY')).toBe(true);
  });

  it('an explicit cause of undefined leaves no cause property, as a plain Error without options', () => {
    expect('cause' in new HubError('HUB_ERR_HTTP', 'x', {})).toBe(false);
    expect('cause' in new OggError('OGG_ERR_CRC', 'x', { cause: undefined })).toBe(false);
  });

  it('isCodedError matches the class, and the code when one is given', () => {
    const ogg = new OggError('OGG_ERR_CRC', 'bad CRC');
    expect(isCodedError(ogg, OggError)).toBe(true);
    expect(isCodedError(ogg, OggError, 'OGG_ERR_CRC')).toBe(true);
    expect(isCodedError(ogg, OggError, 'OGG_ERR_SERIAL')).toBe(false);
    expect(isCodedError(ogg, OpusError)).toBe(false);
    expect(isCodedError(ogg, CodedError)).toBe(true);
    expect(isCodedError(Object.assign(new Error('x'), { code: 'OGG_ERR_CRC' }), OggError)).toBe(false);
    expect(isCodedError('OGG_ERR_CRC', OggError)).toBe(false);
    // The per-module helpers keep their meaning.
    expect(isOggError(ogg, 'OGG_ERR_CRC') && !isOggError(ogg, 'OGG_ERR_BOS') && !isOpusError(ogg)).toBe(true);
    expect(isOpusError(new OpusError('OPUS_ERR_HEAD', 'x'), 'OPUS_ERR_HEAD')).toBe(true);
    expect(isSessionError(new SessionError('SESSION_ERR_CLOSED', 'x'), 'SESSION_ERR_CLOSED')).toBe(true);
    expect(isSessionError(new SessionError('SESSION_ERR_CLOSED', 'x'), 'SESSION_ERR_EXISTS')).toBe(false);
    expect(isProtocolError(new ProtocolError('PKT_ERR_EMPTY', 'x')) && !isProtocolError(ogg)).toBe(true);
    expect(isAudioError(new AudioError('AUDIO_ERR_IO', 'x')) && !isAudioError(ogg)).toBe(true);
  });
});

describe('the CLI prints a coded error as before', () => {
  afterEach(() => vi.restoreAllMocks());

  const runThrowing = async (err: Error): Promise<{ code: number; stderr: string }> => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    const throwing = { summary: 'throws', help: 'usage: solacelive throwing', run: () => Promise.reject(err) };
    const code = await main(['throwing'], { throwing: { summary: 'throws', load: () => Promise.resolve({ command: throwing }) } });
    return { code, stderr: lines.join('\n') };
  };

  it.each(CASES.filter((c) => c.cls !== UsageError).map((c) => [c.cls.name, c] as const))('%s: `solacelive CMD: [CODE] message`, exit 1', async (_name, c) => {
    expect(await runThrowing(c.err)).toEqual({ code: 1, stderr: `solacelive throwing: [${String(c.json.code)}] ${c.message}` });
  });

  it('UsageError: the message and the command help, exit 2', async () => {
    expect(await runThrowing(new UsageError('--in is required'))).toEqual({ code: 2, stderr: 'solacelive throwing: --in is required\n\nusage: solacelive throwing' });
  });
});

describe('minified by the viewer\'s bundler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'solacelive-errors-min-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each class keeps its own name (its constructor is renamed), instanceof and isCodedError still hold', async () => {
    const entry = join(dir, 'entry.ts');
    const from = (p: string) => JSON.stringify(resolve(root, p));
    writeFileSync(entry, [
      `import { CodedError, isCodedError } from ${from('src/errors.ts')};`,
      `import { ProtocolError } from ${from('src/protocol/errors.ts')};`,
      `import { MoshiProtocolError } from ${from('src/protocol/moshi/message.ts')};`,
      `import { OggError } from ${from('src/audio/ogg/errors.ts')};`,
      `import { SessionError } from ${from('harness/format/errors.ts')};`,
      'const made = [new ProtocolError("PKT_ERR_EMPTY", "m"), new MoshiProtocolError("MOSHI_ERR_EMPTY", "m"), new OggError("OGG_ERR_CRC", "m"), new SessionError("SESSION_ERR_CORRUPT", "m")];',
      'globalThis.__codedErrors = made.map((e) => ({ name: e.name, ctor: e.constructor.name, string: String(e), base: e instanceof CodedError, is: isCodedError(e, e.constructor, e.code) }));',
    ].join('\n'));
    const out = await build({ root: dir, configFile: false, logLevel: 'silent', build: { write: false, minify: true, rollupOptions: { input: entry } } });
    const chunk = (Array.isArray(out) ? out : [out as Rolldown.RolldownOutput]).flatMap((o) => o.output).find((o) => o.type === 'chunk');
    expect(chunk?.type).toBe('chunk');
    const file = join(dir, 'bundle.mjs');
    writeFileSync(file, (chunk as Rolldown.OutputChunk).code);
    await import(pathToFileURL(file).href);
    const seen = (globalThis as { __codedErrors?: unknown }).__codedErrors as { name: string; ctor: string; string: string; base: boolean; is: boolean }[];
    const names = [ProtocolError.name, MoshiProtocolError.name, OggError.name, SessionError.name];
    expect(seen.map((s) => s.name)).toEqual(names);
    expect(seen.map((s) => s.string)).toEqual(names.map((n) => `${n}: m`));
    expect(seen.every((s) => s.base && s.is)).toBe(true);
    // The bundler did rename the classes: a name taken from the constructor would be wrong here.
    expect(seen.filter((s) => names.includes(s.ctor))).toEqual([]);
  });
});
