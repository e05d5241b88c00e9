// libopus 1.4 as WebAssembly, from opusscript's Emscripten build, behind a browser-safe
// loader: the caller hands over the .wasm bytes (Node reads the file, a page fetches it), so
// one pinned build encodes and decodes in Node and in the browser alike, with the same output
// for the same input (WebAssembly arithmetic is deterministic; no threads, no relaxed SIMD).

import createNative, { type OpusscriptHandler, type OpusscriptNative } from 'opusscript/build/opusscript_native_wasm.js';
import { AudioError } from '../errors.ts';
import { oggCrc32 } from '../ogg/crc.ts';
import { OpusError, libopusErrorName } from './errors.ts';

/** The npm package and the libopus release it states (the build exports no version call). */
export const OPUSSCRIPT_VERSION = '0.1.1';
export const LIBOPUS_VERSION = '1.4';
/** Where the .wasm sits inside the package (for a bundler's `?url` import or a static route). */
export const OPUSSCRIPT_WASM_SPECIFIER = 'opusscript/build/opusscript_native_wasm.wasm';

export interface LibopusIdentity {
  readonly library: 'opusscript';
  readonly version: string;
  readonly libopus: string;
  /** Digest of the .wasm loaded: "sha256:…" (or "ogg-crc32:…" where Web Crypto is unavailable). */
  readonly wasmDigest: string;
  readonly wasmBytes: number;
}

/** "opusscript 0.1.1 (libopus 1.4, sha256:…)": one line for a fingerprint or a log. */
export function describeLibopus(id: LibopusIdentity): string {
  return `${id.library} ${id.version} (libopus ${id.libopus}, ${id.wasmDigest})`;
}

export type OpusApplication = 'voip' | 'audio' | 'lowdelay';
const APPLICATION: Record<OpusApplication, number> = { voip: 2048, audio: 2049, lowdelay: 2051 };
export const OPUS_SAMPLE_RATES = [8000, 12000, 16000, 24000, 48000] as const;
export type OpusSampleRate = (typeof OPUS_SAMPLE_RATES)[number];

// opus_encoder_ctl requests (opus_defines.h).
const SET_BITRATE = 4002;
const SET_COMPLEXITY = 4010;
const GET_LOOKAHEAD = 4027;

/** opusscript's handler passes this as max_data_bytes to opus_encode. */
const MAX_PACKET_BYTES = 1276 * 3;
/** The handler decodes into a buffer of 5760 samples per channel (120 ms at 48 kHz). */
const MAX_DECODED_SAMPLES = 5760;
/** Longest packet handed to the decoder: RFC 6716 packets stay far below (48 frames × 1275 bytes). */
const MAX_DECODE_INPUT = 1 << 16;

export interface OpusEncoderOptions {
  readonly sampleRate: OpusSampleRate;
  readonly application: OpusApplication;
  /** 0..10 (libopus default 10; Kyutai's web client uses 0). */
  readonly complexity?: number;
  /** Bits per second (libopus chooses when absent). */
  readonly bitrate?: number;
}

export interface OpusDecoderOptions {
  readonly sampleRate: OpusSampleRate;
}

/** One compiled build: hash it once, instantiate it as often as isolation calls for. */
export interface LibopusBuild {
  readonly identity: LibopusIdentity;
  instantiate(): Promise<Libopus>;
}

/** Compiles the opusscript .wasm (its bytes, as shipped in the package). */
export async function compileLibopus(wasm: Uint8Array | ArrayBuffer): Promise<LibopusBuild> {
  const bytes = wasm instanceof Uint8Array ? wasm : new Uint8Array(wasm);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new OpusError('OPUS_ERR_LIBRARY', `the libopus WebAssembly did not compile: ${(err as Error).message}`, { cause: err });
  }
  const identity: LibopusIdentity = {
    library: 'opusscript', version: OPUSSCRIPT_VERSION, libopus: LIBOPUS_VERSION,
    wasmDigest: await digest(bytes), wasmBytes: bytes.length,
  };
  return { identity, instantiate: () => instantiateLibopus(module, identity) };
}

/** Compiles and instantiates in one go. */
export async function loadLibopus(wasm: Uint8Array | ArrayBuffer): Promise<Libopus> {
  return (await compileLibopus(wasm)).instantiate();
}

/** Browser: fetch the .wasm (e.g. from a bundler's `?url` import of OPUSSCRIPT_WASM_SPECIFIER). */
export async function fetchLibopus(url: string | URL): Promise<Libopus> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new OpusError('OPUS_ERR_LIBRARY', `could not fetch the libopus WebAssembly from ${String(url)}: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new OpusError('OPUS_ERR_LIBRARY', `could not fetch the libopus WebAssembly from ${String(url)}: HTTP ${res.status}`);
  return loadLibopus(await res.arrayBuffer());
}

async function instantiateLibopus(module: WebAssembly.Module, identity: LibopusIdentity): Promise<Libopus> {
  let native: OpusscriptNative;
  try {
    // This Emscripten build reads its exports synchronously from instantiateWasm's return, and
    // a page may not instantiate a large module synchronously. So the instance is made first,
    // asynchronously, on forwarders that call the glue's imports once the glue hands them over.
    let glue: WebAssembly.Imports | null = null;
    const forwarders: Record<string, Record<string, (...args: unknown[]) => unknown>> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') throw new Error(`unexpected ${imp.kind} import ${imp.module}.${imp.name}`);
      (forwarders[imp.module] ??= {})[imp.name] = (...args) => {
        const fn = glue?.[imp.module]?.[imp.name] as ((...a: unknown[]) => unknown) | undefined;
        if (!fn) throw new Error(`libopus import ${imp.module}.${imp.name} called before the glue was ready`);
        return fn(...args);
      };
    }
    const instance = await WebAssembly.instantiate(module, forwarders);
    native = createNative({
      instantiateWasm(imports, receive) {
        glue = imports;
        return receive(instance) as object;
      },
      print: () => {},
      printErr: () => {},
    });
    await native.ready;
  } catch (err) {
    throw new OpusError('OPUS_ERR_LIBRARY', `the libopus WebAssembly did not start: ${(err as Error).message}`, { cause: err });
  }
  return new Libopus(native, identity);
}

async function digest(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    return `sha256:${Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
  // Pages served over plain http off-loopback have no Web Crypto; a CRC still names the build.
  return `ogg-crc32:${oggCrc32(bytes).toString(16).padStart(8, '0')}`;
}

/** Frame sizes libopus accepts at `rate`: 2.5, 5, 10, 20, 40, 60, 80, 100 and 120 ms. */
export function opusFrameSizes(rate: OpusSampleRate): number[] {
  return [2.5, 5, 10, 20, 40, 60, 80, 100, 120].map((ms) => (rate * ms) / 1000);
}

/** One instance of the WebAssembly module; encoders and decoders made from it share its memory. */
export class Libopus {
  readonly identity: LibopusIdentity;
  private readonly native: OpusscriptNative;
  /** Set when a call trapped: the instance's state is unknown, so it refuses further work. */
  private aborted: unknown = undefined;

  constructor(native: OpusscriptNative, identity: LibopusIdentity) {
    this.native = native;
    this.identity = identity;
  }

  createEncoder(options: OpusEncoderOptions): OpusPacketEncoder {
    return new OpusPacketEncoder(this, options);
  }

  createDecoder(options: OpusDecoderOptions): OpusPacketDecoder {
    return new OpusPacketDecoder(this, options);
  }

  /** @internal Runs a native call; a trap (abort) poisons the instance and becomes OPUS_ERR_LIBRARY. */
  call<T>(what: string, fn: (native: OpusscriptNative) => T): T {
    if (this.aborted !== undefined) throw new OpusError('OPUS_ERR_LIBRARY', `libopus instance unusable after an earlier abort (${what})`, { cause: this.aborted });
    try {
      return fn(this.native);
    } catch (err) {
      // Our own typed errors are verdicts on the input; anything else is a trap inside the module.
      if (err instanceof OpusError || err instanceof AudioError) throw err;
      this.aborted = err;
      throw new OpusError('OPUS_ERR_LIBRARY', `libopus aborted in ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** @internal */
  newHandler(rate: OpusSampleRate, application: number): OpusscriptHandler {
    if (!OPUS_SAMPLE_RATES.includes(rate)) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', `sample rate ${rate} Hz: Opus runs at ${OPUS_SAMPLE_RATES.join(', ')}`);
    return this.call('create', (n) => new n.OpusScriptHandler(rate, 1, application));
  }
}

abstract class NativeCodec {
  protected readonly lib: Libopus;
  protected handler: OpusscriptHandler | null;
  private readonly ptrs: number[] = [];

  constructor(lib: Libopus, handler: OpusscriptHandler) {
    this.lib = lib;
    this.handler = handler;
  }

  protected alloc(bytes: number): number {
    const p = this.lib.call('malloc', (n) => n._malloc(bytes));
    if (p === 0) throw new OpusError('OPUS_ERR_LIBRARY', `libopus could not allocate ${bytes} bytes`);
    this.ptrs.push(p);
    return p;
  }

  protected release(ptr: number): void {
    const i = this.ptrs.indexOf(ptr);
    if (i >= 0) this.ptrs.splice(i, 1);
    this.lib.call('free', (n) => n._free(ptr));
  }

  protected live(): OpusscriptHandler {
    if (!this.handler) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', 'this Opus codec was freed');
    return this.handler;
  }

  /** Releases the native state (WebAssembly memory is not garbage-collected). Idempotent. */
  free(): void {
    const h = this.handler;
    if (!h) return;
    this.handler = null;
    try {
      this.lib.call('free', (n) => {
        n.OpusScriptHandler.destroy_handler(h);
        for (const p of this.ptrs) n._free(p);
      });
    } catch {
      // An aborted instance cannot free anything; it is dropped whole.
    }
  }
}

/** Encodes mono float PCM, one Opus packet per call. */
export class OpusPacketEncoder extends NativeCodec {
  readonly sampleRate: OpusSampleRate;
  /** Encoder delay in samples at sampleRate (what a stream's pre-skip must cover). */
  readonly lookahead: number;
  private readonly frameSizes: ReadonlySet<number>;
  private readonly inPtr: number;
  private readonly outPtr: number;

  constructor(lib: Libopus, options: OpusEncoderOptions) {
    const app = APPLICATION[options.application];
    if (app === undefined) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', `application ${String(options.application)}: use voip, audio or lowdelay`);
    super(lib, lib.newHandler(options.sampleRate, app));
    this.sampleRate = options.sampleRate;
    this.frameSizes = new Set(opusFrameSizes(options.sampleRate));
    const maxSamples = (options.sampleRate * 120) / 1000;
    // The handler rebuilds int16 samples in place from one byte per u16 slot, reading up to
    // twice the byte count in slots: 4 slots (8 bytes) per sample keeps every read inside.
    this.inPtr = this.alloc(maxSamples * 8);
    this.outPtr = this.alloc(MAX_PACKET_BYTES);
    try {
      if (options.complexity !== undefined) this.ctl(SET_COMPLEXITY, checkInt(options.complexity, 0, 10, 'complexity'), 'complexity');
      if (options.bitrate !== undefined) this.ctl(SET_BITRATE, checkInt(options.bitrate, 500, 512000, 'bitrate'), 'bitrate');
      const cell = this.alloc(4);
      this.ctl(GET_LOOKAHEAD, cell, 'lookahead');
      this.lookahead = lib.call('lookahead', (n) => n.HEAP32[cell >> 2]!);
    } catch (err) {
      this.free();
      throw err;
    }
  }

  /** Encodes exactly one frame (2.5 to 120 ms of samples at sampleRate) of finite samples. */
  encode(pcm: Float32Array): Uint8Array {
    const h = this.live();
    if (!(pcm instanceof Float32Array) || !this.frameSizes.has(pcm.length)) {
      throw new OpusError('OPUS_ERR_BAD_ARGUMENT', `an Opus frame at ${this.sampleRate} Hz has ${[...this.frameSizes].join(', ')} samples; got ${pcm instanceof Float32Array ? pcm.length : typeof pcm}`);
    }
    for (let k = 0; k < pcm.length; k++) {
      const x = pcm[k]!;
      if (x - x !== 0) throw new AudioError('AUDIO_ERR_NON_FINITE', `sample ${k} of the frame to encode is ${x}`, { index: k });
    }
    return this.lib.call('encode', (n) => {
      const slots = n.HEAPU16;
      const base = this.inPtr >> 1;
      for (let k = 0; k < pcm.length; k++) {
        const x = pcm[k]!;
        // Round to int16 as libopus's own float front end would scale: ±1.0 ↔ ±32768, clipped.
        const s = Math.max(-32768, Math.min(32767, Math.round(x * 32768)));
        slots[base + 2 * k] = s & 0xff;
        slots[base + 2 * k + 1] = (s >> 8) & 0xff;
      }
      const len = h._encode(this.inPtr, pcm.length * 2, this.outPtr, pcm.length);
      if (len < 0) throw new OpusError('OPUS_ERR_ENCODE', `libopus could not encode a ${pcm.length}-sample frame: ${libopusErrorName(len)}`, { libopusCode: len });
      return n.HEAPU8.slice(this.outPtr, this.outPtr + len);
    });
  }

  private ctl(request: number, arg: number, what: string): void {
    const h = this.live();
    const r = this.lib.call(what, () => h._encoder_ctl(request, arg));
    if (r < 0) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', `libopus refused ${what} (${arg}): ${libopusErrorName(r)}`, { libopusCode: r });
  }
}

/** Decodes Opus packets to mono float PCM (a stereo stream is downmixed by libopus). */
export class OpusPacketDecoder extends NativeCodec {
  readonly sampleRate: OpusSampleRate;
  private inPtr = 0;
  private inCap = 0;
  private readonly outPtr: number;

  constructor(lib: Libopus, options: OpusDecoderOptions) {
    super(lib, lib.newHandler(options.sampleRate, APPLICATION.audio));
    this.sampleRate = options.sampleRate;
    this.outPtr = this.alloc(MAX_DECODED_SAMPLES * 4); // two u16 slots (one byte each) per sample
  }

  /** Decodes one packet; throws OPUS_ERR_DECODE (with libopus's code) for a packet it refuses. */
  decode(packet: Uint8Array): Float32Array {
    const h = this.live();
    if (!(packet instanceof Uint8Array)) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', 'decode() takes a Uint8Array');
    // libopus reads an empty packet as a lost one and invents audio for it: refuse it instead.
    if (packet.length === 0) throw new OpusError('OPUS_ERR_DECODE', 'empty Opus packet (a packet holds at least its TOC byte)', { libopusCode: -4 });
    if (packet.length > MAX_DECODE_INPUT) throw new OpusError('OPUS_ERR_DECODE', `Opus packet of ${packet.length} bytes; the longest valid one is far below ${MAX_DECODE_INPUT}`, { libopusCode: -4 });
    if (packet.length > this.inCap) {
      if (this.inPtr) this.release(this.inPtr);
      this.inCap = Math.max(packet.length, 4096);
      this.inPtr = this.alloc(this.inCap);
    }
    return this.lib.call('decode', (n) => {
      n.HEAPU8.set(packet, this.inPtr);
      const len = h._decode(this.inPtr, packet.length, this.outPtr);
      if (len < 0) throw new OpusError('OPUS_ERR_DECODE', `libopus could not decode a ${packet.length}-byte packet: ${libopusErrorName(len)}`, { libopusCode: len });
      const slots = n.HEAPU16;
      const base = this.outPtr >> 1;
      const out = new Float32Array(len);
      for (let k = 0; k < len; k++) {
        const s = ((slots[base + 2 * k + 1]! << 8) | slots[base + 2 * k]!) << 16 >> 16;
        out[k] = s / 32768;
      }
      return out;
    });
  }
}

function checkInt(v: number, lo: number, hi: number, name: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', `${name} ${v} is outside ${lo}..${hi}`);
  return v;
}
