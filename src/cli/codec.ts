// `solacelive codec`: Mimi on files. encode (WAV → codes JSON), decode (codes JSON →
// float32 WAV), roundtrip (WAV → WAV through encode and decode in one streaming session,
// as a server runs it). Everything streams frame by frame, so memory does not grow with
// the file and progress can be shown.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CodedError } from '../errors.ts';
import { readWav, toMono24k, writeWav } from '../audio/index.ts';
import { explainWeightsMismatch, resolveConfigArg, resolveModel } from '../engine/models.ts';
import { loadMimiConfig, Mimi } from '../models/mimi/index.ts';
import { NativeMemoryPacer } from '../models/nn/memory.ts';
import { parseCommandArgs, requireOption, UsageError, type Command } from './args.ts';

export const CODES_FORMAT = 'solacelive.codes/1';
const DEFAULT_CONFIG = fileURLToPath(new URL('../../configs/mimi_202407.json', import.meta.url));

/** A codes file that cannot be decoded with this config. */
export class CodesFileError extends CodedError<'CODEC_ERR_CODES_FILE'> {
  override readonly name = 'CodesFileError';
  constructor(path: string, message: string) {
    super('CODEC_ERR_CODES_FILE', `${path}: ${message}`);
  }
}

export interface CodesFile {
  readonly format: typeof CODES_FORMAT;
  readonly n_q: number;
  readonly frame_rate: number;
  /** n_q rows of T codes; row 0 is the semantic codebook. */
  readonly codes: number[][];
}

/** One row per line: readable, diffable, and still plain JSON. */
export function formatCodes(file: CodesFile): string {
  const rows = file.codes.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  return `{\n  "format": ${JSON.stringify(file.format)},\n  "n_q": ${file.n_q},\n  "frame_rate": ${file.frame_rate},\n  "codes": [\n${rows}\n  ]\n}\n`;
}

export function parseCodes(path: string, text: string, expect: { nQ: number; frameRate: number }): number[][] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CodesFileError(path, `not JSON (${(err as Error).message})`);
  }
  const f = json as Partial<CodesFile> | null;
  if (!f || typeof f !== 'object' || f.format !== CODES_FORMAT) throw new CodesFileError(path, `not a codes file (format must be "${CODES_FORMAT}")`);
  if (f.n_q !== expect.nQ) throw new CodesFileError(path, `has n_q ${f.n_q} but the Mimi config uses ${expect.nQ} codebooks`);
  if (f.frame_rate !== expect.frameRate) throw new CodesFileError(path, `has frame_rate ${f.frame_rate} but the Mimi config runs at ${expect.frameRate} Hz`);
  const codes = f.codes;
  if (!Array.isArray(codes) || codes.length !== expect.nQ || !codes.every(Array.isArray)) throw new CodesFileError(path, `"codes" must be ${expect.nQ} rows of integers`);
  const t = codes[0]!.length;
  if (t === 0) throw new CodesFileError(path, 'holds no frames');
  codes.forEach((row, k) => {
    if (row.length !== t) throw new CodesFileError(path, `row ${k} has ${row.length} codes, row 0 has ${t}`);
  });
  return codes;
}

/** Progress on stderr for files longer than a few seconds: a live line on a terminal, else every 10%. */
class Progress {
  private readonly total: number;
  private readonly label: string;
  private readonly frameSec: number;
  private readonly start = performance.now();
  private readonly live = process.stderr.isTTY === true;
  private readonly enabled: boolean;
  private lastPrint = 0;
  private lastDecile = 0;

  constructor(label: string, total: number, frameRate: number) {
    this.label = label;
    this.total = total;
    this.frameSec = 1 / frameRate;
    this.enabled = total * this.frameSec >= 10;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    const decile = Math.floor((done * 10) / this.total);
    if (this.live ? now - this.lastPrint < 250 && done < this.total : decile === this.lastDecile) return;
    this.lastPrint = now;
    this.lastDecile = decile;
    const audio = done * this.frameSec;
    const speed = audio / ((now - this.start) / 1000);
    const line = `${this.label}: ${done}/${this.total} frames (${((100 * done) / this.total).toFixed(0)}%), ${audio.toFixed(1)} s of audio, ${speed.toFixed(2)}× real time`;
    process.stderr.write(this.live ? `\r${line}${done === this.total ? '\n' : ''}` : `${line}\n`);
  }
}

/** The Mimi config and weights: from --model (as serve resolves it), or --weights [--config]. */
function mimiFiles(values: Record<string, unknown>): { config: string; weights: string; flag: string } {
  if (typeof values.model === 'string') {
    if (values.weights !== undefined || values.config !== undefined) throw new UsageError('--model names the weights and config: give either --model or --weights [--config]');
    const spec = resolveModel(values.model, (m) => process.stderr.write(`${m}\n`));
    if (spec.untrained) process.stderr.write(`note: ${spec.name} is UNTRAINED (synthetic weights): its audio is noise\n`);
    return { config: spec.mimiConfig, weights: spec.mimiWeights, flag: '--config' };
  }
  if (values.weights === undefined) throw new UsageError('--weights W (with --config C) or --model DIR|NAME is required');
  const config = typeof values.config === 'string' ? resolveConfigArg('mimi', values.config) : DEFAULT_CONFIG;
  return { config, weights: requireOption(values, 'weights'), flag: '--config' };
}

function loadMimi(values: Record<string, unknown>): Mimi {
  const files = mimiFiles(values);
  const mimi = new Mimi(loadMimiConfig(files.config));
  try {
    mimi.loadWeights(files.weights);
  } catch (err) {
    throw explainWeightsMismatch(err, 'mimi', files.weights, files.config, files.flag);
  }
  return mimi;
}

/** Reads any WAV as 24 kHz mono, saying what was changed, padded to whole frames. */
async function readInput(path: string, mimi: Mimi): Promise<{ frames: Float32Array[]; samples: number }> {
  const wav = await readWav(path);
  if (wav.truncation) process.stderr.write(`note: ${path}: ${wav.truncation.reason}, read the ${wav.frames} whole samples present\n`);
  const mono = toMono24k(wav.channels, wav.sampleRate);
  if (mono.resampled || mono.downmixed) process.stderr.write(`note: ${path}: ${mono.summary} (Mimi takes 24 kHz mono)\n`);
  if (mono.samples.length === 0) throw new UsageError(`${path} holds no samples`);
  const f = mimi.frameSize;
  const count = Math.ceil(mono.samples.length / f);
  const pad = count * f - mono.samples.length;
  if (pad > 0) process.stderr.write(`note: ${path}: last frame padded with ${pad} zero samples (${f}-sample frames)\n`);
  const frames = Array.from({ length: count }, (_, i) => {
    const fr = new Float32Array(f);
    fr.set(mono.samples.subarray(i * f, (i + 1) * f));
    return fr;
  });
  return { frames, samples: mono.samples.length };
}

function writeCodes(path: string, mimi: Mimi, columns: readonly Int32Array[]): void {
  const codes = Array.from({ length: mimi.numCodebooks }, (_, k) => columns.map((c) => c[k]!));
  writeFileSync(path, formatCodes({ format: CODES_FORMAT, n_q: mimi.numCodebooks, frame_rate: mimi.frameRate, codes }));
}

async function encode(values: Record<string, unknown>): Promise<number> {
  const input = requireOption(values, 'in');
  const output = requireOption(values, 'out');
  const mimi = loadMimi(values);
  const { frames } = await readInput(input, mimi);
  const progress = new Progress('encode', frames.length, mimi.frameRate);
  const pacer = new NativeMemoryPacer();
  const columns: Int32Array[] = [];
  for (const frame of frames) {
    columns.push(mimi.encodeStep(frame));
    progress.update(columns.length);
    await pacer.step();
  }
  writeCodes(output, mimi, columns);
  process.stderr.write(`wrote ${output}: ${columns.length} frames × ${mimi.numCodebooks} codebooks (${(columns.length / mimi.frameRate).toFixed(2)} s)\n`);
  return 0;
}

async function decode(values: Record<string, unknown>): Promise<number> {
  const input = requireOption(values, 'in');
  const output = requireOption(values, 'out');
  const mimi = loadMimi(values);
  let text: string;
  try {
    text = readFileSync(input, 'utf8');
  } catch (err) {
    throw new CodesFileError(input, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const codes = parseCodes(input, text, { nQ: mimi.numCodebooks, frameRate: mimi.frameRate });
  const t = codes[0]!.length;
  const out = new Float32Array(t * mimi.frameSize);
  const progress = new Progress('decode', t, mimi.frameRate);
  const pacer = new NativeMemoryPacer();
  for (let i = 0; i < t; i++) {
    out.set(mimi.decodeStep(codes.map((row) => row[i]!)), i * mimi.frameSize);
    progress.update(i + 1);
    await pacer.step();
  }
  await writeWav(output, out, mimi.sampleRate);
  process.stderr.write(`wrote ${output}: ${out.length} samples, ${mimi.sampleRate} Hz mono float32 (${(out.length / mimi.sampleRate).toFixed(2)} s)\n`);
  return 0;
}

async function roundtrip(values: Record<string, unknown>): Promise<number> {
  const input = requireOption(values, 'in');
  const output = requireOption(values, 'out');
  const mimi = loadMimi(values);
  const { frames, samples } = await readInput(input, mimi);
  const out = new Float32Array(frames.length * mimi.frameSize);
  const columns: Int32Array[] = [];
  const progress = new Progress('roundtrip', frames.length, mimi.frameRate);
  const pacer = new NativeMemoryPacer();
  for (const [i, frame] of frames.entries()) {
    const codes = mimi.encodeStep(frame);
    columns.push(codes);
    out.set(mimi.decodeStep(codes), i * mimi.frameSize);
    progress.update(i + 1);
    await pacer.step();
  }
  if (typeof values.codes === 'string') writeCodes(values.codes, mimi, columns);
  // The codec has no look-ahead: output sample i is the reconstruction of input sample i.
  await writeWav(output, out.subarray(0, samples), mimi.sampleRate);
  process.stderr.write(`wrote ${output}: ${samples} samples, ${mimi.sampleRate} Hz mono float32, through ${columns.length} frames of codes\n`);
  return 0;
}

const ACTIONS: Readonly<Record<string, (values: Record<string, unknown>) => Promise<number>>> = { encode, decode, roundtrip };

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' }, weights: { type: 'string' }, model: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' }, codes: { type: 'string' },
  }, true);
  const [action, ...extra] = positionals;
  if (!action) throw new UsageError('missing action: encode, decode or roundtrip');
  const fn = ACTIONS[action];
  if (!fn) throw new UsageError(`unknown action '${action}' (encode, decode or roundtrip)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (values.codes !== undefined && action !== 'roundtrip') throw new UsageError('--codes is a roundtrip option (encode writes codes to --out)');
  return fn(values);
}

export const command: Command = {
  summary: 'Mimi codec on files: WAV → codes JSON, codes JSON → WAV, or both in one streaming session',
  help: [
    'usage: solacelive codec encode    (--model M | --weights W [--config C]) --in IN.wav   --out OUT.json',
    '       solacelive codec decode    (--model M | --weights W [--config C]) --in IN.json  --out OUT.wav',
    '       solacelive codec roundtrip (--model M | --weights W [--config C]) --in IN.wav   --out OUT.wav [--codes OUT.json]',
    '',
    'Runs Mimi (24 kHz audio ↔ 12.5 Hz codes) frame by frame, 1920 samples (80 ms) per frame,',
    'in one streaming session, exactly as a server runs it.',
    '',
    '  encode     reads a WAV of any sample rate and channel count (PCM 8/16/24/32-bit or float),',
    '             converts it to 24 kHz mono (channel average, then resampling; a note on stderr',
    '             says so), pads the last frame with zeros, and writes the codes as JSON:',
    `             {"format":"${CODES_FORMAT}","n_q":8,"frame_rate":12.5,"codes":[[...T ints...] x n_q]}`,
    '             (row 0 is the semantic codebook).',
    '  decode     reads such a JSON file and writes T × 1920 samples as a 24 kHz mono float32 WAV.',
    '  roundtrip  encodes and decodes each frame in turn and writes the reconstruction, trimmed',
    '             to the input length (24 kHz mono float32); --codes also writes the codes.',
    '',
    '  --model M     a model as `serve --model` takes it: tiny (built-in, untrained), a folder',
    '                holding a model.json, or a Hugging Face repo id in the local cache',
    '  --weights W   Mimi checkpoint in the PyTorch layout (tokenizer-e351c8d8-checkpoint125.safetensors',
    '                for the released model); float32 on CPU, bf16/f16 files are cast at load',
    `  --config C    Mimi config in upstream's get_mimi layout, a file or the name of one in configs/`,
    '                (mimi_202407, the real-size default; mimi_tiny or tiny). When the weights fit',
    '                another known config, the error names it.',
    '  --in, --out   input and output files',
    '',
    'Progress goes to stderr for inputs longer than 10 s. Exit status 0 on success, 1 on an',
    'error (printed with its code, e.g. [WEIGHTS_ERR_KEYS], [AUDIO_ERR_NON_FINITE]), 2 on a usage error.',
  ].join('\n'),
  run,
};
