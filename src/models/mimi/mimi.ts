// Mimi: 24 kHz PCM ↔ 12.5 Hz columns of codes, streaming one 80 ms frame per call.
//   encode: SEANet encoder → encoder transformer → downsample → split RVQ
//   decode: split RVQ decode → upsample → decoder transformer → SEANet decoder
// One Mimi object owns one streaming session's state (encoder and decoder halves, as a
// server interleaves them); `reset()` starts a new session, and `session()` makes another
// Mimi with its own state over the same weights. The non-streaming `encode` / `decode`
// never touch the streaming state.
//
// Native memory: MLX buffers are freed by finalizers that Node runs from the event loop,
// so a caller stepping in a loop must yield between steps (src/models/nn/memory.ts).
import { evaluate, mx, type MxArray } from '../mlx.ts';
import { compileAvailable, compiled, withCompileLock } from '../nn/compile.ts';
import { floatsToMx, mxToFloats } from '../nn/host-io.ts';
import type { MimiConfig } from './config.ts';
import { MimiError } from './errors.ts';
import { SplitRvq } from './quantizer.ts';
import { Downsample, Upsample } from './resample.ts';
import { decoderLayout, encoderLayout, Seanet, type SeanetState, type Tap } from './seanet.ts';
import { MimiTransformer, type TransformerState } from './transformer.ts';
import { loadMimiWeights, sanitize, type MimiWeights } from './weights.ts';

export type { Tap } from './seanet.ts';

export interface StepOptions {
  /**
   * Called with intermediate outputs by upstream module name, channel-last [1, T, C]:
   * module outputs (`encoder`, `encoder_transformer`, `downsample`,
   * `quantizer.rvq_first.input_proj`, `quantizer.decode`, `upsample`, ...) always, and with
   * `eager` every SEANet layer too (`encoder.model.3`, `decoder.model.14`, ...).
   * For tests and profiling.
   */
  readonly tap?: Tap;
  /** Run SEANet layer by layer instead of as one compiled function (same numbers). */
  readonly eager?: boolean;
}

export interface MimiOptions {
  /**
   * Compile the SEANet stacks and transformers with mx.compile (default: when usable,
   * see src/models/nn/compile.ts). Same outputs; several times faster on CPU.
   */
  readonly compile?: boolean;
}

interface Modules {
  /** The streaming steps as one compiled graph each (see `buildFused`), when compiling. */
  readonly fused: Fused | null;
  readonly encoder: Seanet;
  readonly encoderTransformer: MimiTransformer;
  readonly downsample: Downsample;
  readonly quantizer: SplitRvq;
  readonly upsample: Upsample;
  readonly decoderTransformer: MimiTransformer;
  readonly decoder: Seanet;
}

interface EncoderState {
  readonly seanet: SeanetState;
  readonly transformer: TransformerState;
  readonly downsample: MxArray | null;
}

interface DecoderState {
  readonly upsample: MxArray | null;
  readonly transformer: TransformerState;
  readonly seanet: SeanetState;
}

function buildModules(cfg: MimiConfig, w: MimiWeights, opts: MimiOptions): Modules {
  const c = { compile: opts.compile ?? true };
  const parts = {
    encoder: new Seanet('encoder', encoderLayout(cfg.seanet), w.encoder, cfg.seanet, c),
    encoderTransformer: new MimiTransformer(cfg.transformer, w.encoderTransformer, c),
    downsample: new Downsample(w.downsample, cfg.resampleStride),
    quantizer: new SplitRvq(w.semantic, w.acoustic),
    upsample: new Upsample(w.upsample, cfg.resampleStride),
    decoderTransformer: new MimiTransformer(cfg.transformer, w.decoderTransformer, c),
    decoder: new Seanet('decoder', decoderLayout(cfg.seanet), w.decoder, cfg.seanet, c),
  };
  const fuse = c.compile && compileAvailable() && parts.encoder.traceable && parts.decoder.traceable;
  return { ...parts, fused: fuse ? buildFused(parts, cfg) : null };
}

/**
 * One streaming frame each way as one compiled graph: SEANet, transformer, resampling and
 * quantizer together. Separately they were two compiled calls plus ~80 eager primitives
 * per frame (quantizer and resampling), each costing tens of microseconds to build and
 * schedule in this binding. The same operations in the same order: the same numbers.
 * Used once a session's resampling convs carry state (from its second frame on; the
 * first fills the downsample's replicate padding from its input, eagerly).
 */
interface Fused {
  /** Transformer steps per frame (latent rate / code rate). */
  readonly steps: number;
  readonly encSlots: number;
  readonly decSlots: number;
  readonly recent: number;
  /** (pcm, ...SEANet states, ...transformer inputs, downsample state) → [codes, ...SEANet states, ...recent, downsample state] */
  readonly encode: (...args: MxArray[]) => MxArray[];
  /** (codes, upsample state, ...transformer inputs, ...SEANet states) → [pcm, upsample state, ...recent, ...SEANet states] */
  readonly decode: (...args: MxArray[]) => MxArray[];
}

function buildFused(m: Omit<Modules, 'fused'>, cfg: MimiConfig): Fused {
  const encSlots = m.encoder.initialState().length;
  const decSlots = m.decoder.initialState().length;
  const trIn = m.encoderTransformer.streamInputCount;
  const recent = (trIn - 3) / 2;
  return {
    steps: cfg.resampleStride,
    encSlots,
    decSlots,
    recent,
    encode: compiled((pcm: MxArray, ...rest: MxArray[]) => {
      const [y, ...sea] = m.encoder.run(pcm, rest.slice(0, encSlots));
      const [ty, ...rec] = m.encoderTransformer.streamRaw(y!, rest.slice(encSlots, encSlots + trIn));
      const down = m.downsample.step(ty!, rest[encSlots + trIn]!);
      return [m.quantizer.encode(down.y), ...sea, ...rec, down.state!];
    }),
    decode: compiled((codes: MxArray, up: MxArray, ...rest: MxArray[]) => {
      const u = m.upsample.step(m.quantizer.decode(codes), up);
      const [ty, ...rec] = m.decoderTransformer.streamRaw(u.y, rest.slice(0, trIn));
      const [pcm, ...sea] = m.decoder.run(ty!, rest.slice(trIn));
      return [pcm!, u.state!, ...rec, ...sea];
    }),
  };
}

/** One streaming frame of encode: the fused graph when it applies, else encodeChunk. */
function encodeFrame(m: Modules, pcm: MxArray, state: EncoderState, opts: StepOptions): { codes: MxArray; state: EncoderState } {
  const f = m.fused;
  if (!f || opts.tap || opts.eager || state.downsample === null || state.seanet.some((x) => x === null)) return encodeChunk(m, pcm, state, opts);
  const tr = m.encoderTransformer.streamInputs(f.steps, state.transformer);
  const outs = f.encode(pcm, ...(state.seanet as MxArray[]), ...tr.inputs, state.downsample);
  return {
    codes: outs[0]!,
    state: {
      seanet: outs.slice(1, 1 + f.encSlots),
      transformer: MimiTransformer.streamNext(tr.state, f.steps, outs.slice(1 + f.encSlots, 1 + f.encSlots + f.recent)),
      downsample: outs[1 + f.encSlots + f.recent]!,
    },
  };
}

/** One streaming frame of decode: the fused graph when it applies, else decodeChunk. */
function decodeFrame(m: Modules, codes: MxArray, state: DecoderState, opts: StepOptions): { pcm: MxArray; state: DecoderState } {
  const f = m.fused;
  if (!f || opts.tap || opts.eager || state.upsample === null || state.seanet.some((x) => x === null)) return decodeChunk(m, codes, state, opts);
  const tr = m.decoderTransformer.streamInputs(f.steps, state.transformer);
  const outs = f.decode(codes, state.upsample, ...tr.inputs, ...(state.seanet as MxArray[]));
  return {
    pcm: outs[0]!,
    state: {
      upsample: outs[1]!,
      transformer: MimiTransformer.streamNext(tr.state, f.steps, outs.slice(2, 2 + f.recent)),
      seanet: outs.slice(2 + f.recent),
    },
  };
}

/** PCM [1, L, 1] → int32 codes [L / frameSize, K]; with null state, one batch call. */
function encodeChunk(m: Modules, pcm: MxArray, state: EncoderState | null, opts: StepOptions): { codes: MxArray; state: EncoderState } {
  const { tap } = opts;
  const sea = m.encoder.step(pcm, state?.seanet ?? m.encoder.initialState(), opts);
  tap?.('encoder', sea.y);
  const tr = m.encoderTransformer.forward(sea.y, state?.transformer ?? null);
  tap?.('encoder_transformer', tr.y);
  const down = m.downsample.step(tr.y, state?.downsample ?? null);
  tap?.('downsample', down.y);
  const codes = m.quantizer.encode(down.y, tap);
  tap?.('quantizer', codes);
  return { codes, state: { seanet: sea.state, transformer: tr.state ?? m.encoderTransformer.initialState(), downsample: down.state } };
}

/** int32 codes [T, K] → PCM [1, T·frameSize, 1]. */
function decodeChunk(m: Modules, codes: MxArray, state: DecoderState | null, opts: StepOptions): { pcm: MxArray; state: DecoderState } {
  const { tap } = opts;
  const latent = m.quantizer.decode(codes);
  tap?.('quantizer.decode', latent);
  const up = m.upsample.step(latent, state?.upsample ?? null);
  tap?.('upsample', up.y);
  const tr = m.decoderTransformer.forward(up.y, state?.transformer ?? null);
  tap?.('decoder_transformer', tr.y);
  const sea = m.decoder.step(tr.y, state?.seanet ?? m.decoder.initialState(), opts);
  tap?.('decoder', sea.y);
  return { pcm: sea.y, state: { upsample: up.state, transformer: tr.state ?? m.decoderTransformer.initialState(), seanet: sea.state } };
}

function stateArrays(s: EncoderState | DecoderState): MxArray[] {
  const out: MxArray[] = [];
  const add = (a: MxArray | null | undefined) => { if (a) out.push(a); };
  s.seanet.forEach(add);
  out.push(...MimiTransformer.stateArrays(s.transformer));
  add('downsample' in s ? s.downsample : s.upsample);
  return out;
}

function pcmToMx(pcm: ArrayLike<number>): MxArray {
  return floatsToMx(pcm, [1, pcm.length, 1]);
}

function checkFinite(pcm: ArrayLike<number>, what: string): void {
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i]!;
    if (v - v !== 0) throw new MimiError('MIMI_ERR_NON_FINITE', `${what}: sample ${i} is ${v}`);
  }
}

export class Mimi {
  readonly config: MimiConfig;
  private readonly options: MimiOptions;
  private modules: Modules | null = null;
  private encState: EncoderState | null = null;
  private decState: DecoderState | null = null;

  constructor(config: MimiConfig, options: MimiOptions = {}) {
    this.config = config;
    this.options = options;
  }

  get frameSize(): number { return this.config.frameSize; }
  get sampleRate(): number { return this.config.sampleRate; }
  get frameRate(): number { return this.config.frameRate; }
  get numCodebooks(): number { return this.config.numCodebooks; }
  get hasWeights(): boolean { return this.modules !== null; }

  /** Loads a PyTorch-layout checkpoint (float32 on CPU; extra stored codebooks allowed). */
  loadWeights(path: string): void {
    this.install(loadMimiWeights(path, this.config));
  }

  /** Same from arrays in memory (PyTorch key names), e.g. generated weights. */
  setWeights(arrays: Readonly<Record<string, MxArray>>, source?: string): void {
    this.install(sanitize(arrays, this.config, source));
  }

  private install(w: MimiWeights): void {
    // Materialise the weights (module constructors then materialise what they derive),
    // so steps, and compiled traces, start from arrays rather than from graphs.
    evaluate(...allArrays(w));
    const modules = buildModules(this.config, w, this.options);
    if ((this.options.compile ?? true) && compileAvailable()) withCompileLock(() => warmUp(modules, this.config));
    this.modules = modules;
    this.reset();
  }

  /**
   * A new codec with its own streaming state that shares this one's weights (no copy):
   * one per concurrent stream, e.g. per server session.
   */
  session(): Mimi {
    const m = new Mimi(this.config);
    m.modules = this.model;
    return m;
  }

  /** Starts a new streaming session: zero padding, empty caches, position 0. */
  reset(): void {
    this.encState = null;
    this.decState = null;
  }

  private get model(): Modules {
    if (!this.modules) throw new MimiError('MIMI_ERR_NO_WEIGHTS', 'Mimi has no weights loaded: call loadWeights(path) first');
    return this.modules;
  }

  /** One frame (frameSize samples, 24 kHz) → one column of numCodebooks codes. */
  encodeStep(frame: ArrayLike<number>, opts: StepOptions = {}): Int32Array {
    const m = this.model;
    if (frame.length !== this.frameSize) throw new MimiError('MIMI_ERR_FRAME_LENGTH', `encodeStep takes exactly ${this.frameSize} samples (got ${frame.length})`);
    checkFinite(frame, 'encodeStep');
    const { codes, state } = encodeFrame(m, pcmToMx(frame), this.encState ?? this.initialEncoderState(m), opts);
    // NaN latents quantize to code 0 without a word. The downsample's carried input is this
    // frame's latent (kernel − stride = stride steps), so its sum tells, for one reduction.
    const total = state.downsample ? mx.sum(state.downsample) : null;
    evaluate(codes, ...stateArrays(state), ...(total ? [total] : []));
    if (total && !Number.isFinite(total.item() as number)) {
      throw new MimiError('MIMI_ERR_NON_FINITE_OUTPUT', 'encodeStep: the encoder latent is NaN/Inf (the weights overflow float32 in compute)');
    }
    this.encState = state;
    return Int32Array.from((codes.tolist() as number[][])[0]!);
  }

  /** One column of numCodebooks codes → one frame of PCM. */
  decodeStep(codes: ArrayLike<number>, opts: StepOptions = {}): Float32Array {
    const m = this.model;
    const col = this.checkCodes([codes], 'decodeStep');
    const { pcm, state } = decodeFrame(m, col, this.decState ?? this.initialDecoderState(m), opts);
    evaluate(pcm, ...stateArrays(state));
    this.decState = state;
    const out = mxToFloats(pcm);
    // Weights that pass the load check can still overflow together; NaN audio must not
    // reach a listener or a recording as if it were sound (1920 compares: free).
    for (let i = 0; i < out.length; i++) {
      if (out[i]! - out[i]! !== 0) throw new MimiError('MIMI_ERR_NON_FINITE_OUTPUT', `decodeStep: output sample ${i} is ${out[i]} (the weights overflow float32 in compute)`);
    }
    return out;
  }

  /**
   * Non-streaming encode of a whole signal (right-padded with zeros to whole frames, as
   * upstream does): codes as numCodebooks rows of T. Equals the streaming codes until
   * the transformer context fills (upstream behaves the same).
   */
  encode(pcm: ArrayLike<number>, opts: StepOptions = {}): Int32Array[] {
    const m = this.model;
    if (pcm.length === 0) throw new MimiError('MIMI_ERR_FRAME_LENGTH', 'encode needs at least one sample');
    checkFinite(pcm, 'encode');
    const frames = Math.ceil(pcm.length / this.frameSize);
    const padded = new Float32Array(frames * this.frameSize);
    padded.set(Array.from(pcm));
    const { codes } = encodeChunk(m, pcmToMx(padded), null, opts);
    evaluate(codes);
    const rows = codes.tolist() as number[][];
    return Array.from({ length: this.numCodebooks }, (_, k) => Int32Array.from(rows, (r) => r[k]!));
  }

  /** Non-streaming decode of numCodebooks rows of T codes → T·frameSize samples. */
  decode(codes: readonly ArrayLike<number>[], opts: StepOptions = {}): Float32Array {
    const m = this.model;
    if (codes.length !== this.numCodebooks) throw new MimiError('MIMI_ERR_CODES', `decode takes ${this.numCodebooks} rows of codes (got ${codes.length})`);
    const t = codes[0]!.length;
    if (t === 0) throw new MimiError('MIMI_ERR_CODES', 'decode needs at least one column of codes');
    const columns = Array.from({ length: t }, (_, i) => codes.map((row) => {
      if (row.length !== t) throw new MimiError('MIMI_ERR_CODES', `decode: code rows differ in length (${row.length} vs ${t})`);
      return row[i]!;
    }));
    const { pcm } = decodeChunk(m, this.checkCodes(columns, 'decode'), null, opts);
    evaluate(pcm);
    return mxToFloats(pcm);
  }

  private checkCodes(columns: readonly ArrayLike<number>[], what: string): MxArray {
    const { bins } = this.config.quantizer;
    const rows: number[][] = [];
    for (const c of columns) {
      if (c.length !== this.numCodebooks) throw new MimiError('MIMI_ERR_CODES', `${what} takes ${this.numCodebooks} codes per frame (got ${c.length})`);
      const row = new Array<number>(c.length);
      for (let k = 0; k < c.length; k++) {
        const v = c[k]!;
        if (!Number.isInteger(v) || v < 0 || v >= bins) throw new MimiError('MIMI_ERR_CODES', `${what}: code ${k} is ${v}, outside [0, ${bins})`);
        row[k] = v;
      }
      rows.push(row);
    }
    return mx.array(rows, mx.int32);
  }

  private initialEncoderState(m: Modules): EncoderState {
    return { seanet: m.encoder.initialState(), transformer: m.encoderTransformer.initialState(), downsample: null };
  }

  private initialDecoderState(m: Modules): DecoderState {
    return { upsample: null, transformer: m.decoderTransformer.initialState(), seanet: m.decoder.initialState() };
  }
}

/**
 * One streaming frame each way and one batch frame, on scratch state: every compiled
 * kernel gets built here (once per machine, seconds each) instead of inside the first
 * real-time step, and under the cross-process compile lock.
 */
function warmUp(m: Modules, cfg: MimiConfig): void {
  const pcm = mx.zeros([1, cfg.frameSize, 1], mx.float32);
  const enc = encodeChunk(m, pcm, { seanet: m.encoder.initialState(), transformer: m.encoderTransformer.initialState(), downsample: null }, {});
  const dec = decodeChunk(m, enc.codes, { upsample: null, transformer: m.decoderTransformer.initialState(), seanet: m.decoder.initialState() }, {});
  evaluate(enc.codes, dec.pcm, ...stateArrays(enc.state), ...stateArrays(dec.state));
  // A second frame: the fused graphs, which take over once the resampling carries state.
  const enc2 = encodeFrame(m, pcm, enc.state, {});
  const dec2 = decodeFrame(m, enc2.codes, dec.state, {});
  evaluate(enc2.codes, dec2.pcm, ...stateArrays(enc2.state), ...stateArrays(dec2.state));
  const batch = encodeChunk(m, pcm, null, {});
  evaluate(decodeChunk(m, batch.codes, null, {}).pcm);
}

function allArrays(w: MimiWeights): MxArray[] {
  const out: MxArray[] = [];
  const visit = (v: unknown): void => {
    if (v instanceof mx.array) out.push(v);
    else if (v instanceof Map) v.forEach(visit);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(w);
  return out;
}
