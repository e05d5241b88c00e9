// Is a session's data what was recorded? Every file is checked against what vouches for it,
// before anything is replayed or compared, so damage is reported as damage (file and place)
// and never shows up later as a model divergence:
//   - the manifest's setup fields against their digest (v2) and against the `ready` message
//     the server sent, which packets.bin holds CRC-checked (seed, sampling, model, weights,
//     platform);
//   - each data file against its sha256 in the manifest (v2, cleanly closed sessions);
//   - input.wav frames against the client's AUDIO_CHUNK payloads in packets.bin (a Moshi
//     session: its 0x01 Ogg Opus messages, re-decoded with the libopus build the server used
//     and cut with the framing it recorded, src/audio/opus/input-frames.ts);
//   - output.wav frames against the per-step PCM hashes in steps.jsonl (silence where a step
//     made no audio);
//   - step indices contiguous and unique; the manifest's final counts against the files.
// Sessions without final digests (format v1, a crash, a failed close) get the cross-checks
// only; what could not be checked is listed in `unverified`. Browser-safe: the libopus that
// re-decodes Moshi audio is handed in (Node loads it one way, a page another).
import { describeLibopus, OpusInputFrames, recordedInputFraming, type Libopus } from '../src/audio/opus/index.ts';
import { decodeMessageSafe } from '../src/protocol/index.ts';
import { decodeMoshi, type MoshiMessage } from '../src/protocol/moshi/index.ts';
import {
  FRAME_SAMPLES, INPUT_WAV, MANIFEST_FILE, OUTPUT_WAV, PACKETS_FILE, STEPS_FILE, SessionError, Sha256, canonicalJson, decodeFloat32,
  isSessionError, pcmHash, setupSha256, toHex,
} from './format/index.ts';
import type { SessionDamage, SessionManifest, SessionReader, SessionRecovery, WavTrack } from './format/index.ts';
import { proxyMetaOf } from './format/proxied.ts';

export interface IntegrityReport {
  /** Every damaged place found, in file order per check (empty: nothing found). */
  readonly damage: readonly SessionDamage[];
  /** Damaged places beyond those listed (the list is capped). */
  readonly moreDamage: number;
  /** What was checked, for people ("input.wav: 25 frames match packets.bin"). */
  readonly checked: readonly string[];
  /** What could not be checked, and why (no digests in a v1 or crashed session…). */
  readonly unverified: readonly string[];
}

export interface VerifyOptions {
  /**
   * A fresh libopus instance, to re-decode a Moshi session's client audio as the server did
   * (Node: `loadLibopusNode` from src/audio/opus/node.ts). Without it input.wav of a Moshi
   * session is listed as unverified.
   */
  readonly libopus?: () => Promise<Libopus>;
}

const MAX_DAMAGE = 50;

interface StepInfo {
  readonly line: number;
  readonly pcmHash: string | null;
  readonly silenceIn: boolean;
}

class Findings {
  readonly damage: SessionDamage[] = [];
  more = 0;
  readonly checked: string[] = [];
  readonly unverified: string[] = [];
  add(d: SessionDamage): void {
    if (this.damage.length < MAX_DAMAGE) this.damage.push(d);
    else this.more++;
  }
  /** A SESSION_ERR_CORRUPT (or other reader error) met while reading `file`, as damage. */
  readError(err: unknown, file: string): void {
    if (!isSessionError(err)) throw err;
    this.add({ file: err.file ?? file, where: err.offset === undefined ? 'read' : `byte ${err.offset}`, ...(err.offset === undefined ? {} : { offset: err.offset }), message: err.message });
  }
}

/** Verifies every file of an open session; never throws for damage (see `damage`). */
export async function verifySession(reader: SessionReader, options: VerifyOptions = {}): Promise<IntegrityReport> {
  const f = new Findings();
  const m = reader.manifest;
  const complete = m.status === 'complete';
  const files = m.integrity?.files ?? null;

  checkManifest(m, f);

  // packets.bin: the client's audio and the server's ready message.
  const moshi = m.meta.wire === 'moshi' ? await MoshiInput.open(m, options, f) : null;
  const chunks: string[] = [];
  let ready: Record<string, unknown> | null = null;
  let otherProtocol = false;
  let firstClient = true;
  let packets = 0, packetBytes = 0, packetsWhole = true;
  try {
    for await (const p of reader.packets()) {
      packets++;
      packetBytes += p.bytes.length;
      if (moshi) {
        if (p.direction === 0) moshi.client(p.bytes, p.offset, chunks);
        else ready ??= moshiReady(p.bytes);
        continue;
      }
      const { packets: decoded } = decodeMessageSafe(p.bytes);
      if (p.direction === 0) {
        // A first client message that is no SolaceLive packet: another wire protocol (its audio is not raw PCM).
        if (firstClient && decoded.length === 0) otherProtocol = true;
        firstClient = false;
        for (const d of decoded) if (d.type === 'AUDIO_CHUNK') chunks.push(pcmHash(d.samples));
      } else if (ready === null) {
        for (const d of decoded) {
          if (d.type === 'METADATA' && d.data !== null && typeof d.data === 'object' && !Array.isArray(d.data) && d.data.type === 'ready') ready = d.data;
        }
      }
    }
  } catch (err) {
    packetsWhole = false;
    f.readError(err, PACKETS_FILE);
  }
  moshi?.finish();
  const readyName = moshi ? "metadata message's 'solacelive' ready" : "'ready' message";
  if (otherProtocol) f.unverified.push(`${PACKETS_FILE}: not the SolaceLive packet protocol, so input.wav and the manifest are not cross-checked against it`);
  else if (packets === 0) f.unverified.push(`${PACKETS_FILE}: empty (an offline replay has no wire), so input.wav and the manifest's setup are not cross-checked against it`);
  else if (ready === null) f.unverified.push(`${PACKETS_FILE}: holds no ${readyName}, so the manifest's setup is not cross-checked against it`);
  else if (proxyMetaOf(m)) f.unverified.push(`${PACKETS_FILE}: recorded by the proxy; the upstream's ${readyName} describes the upstream's own session, not this manifest, so it is not cross-checked`);
  else checkReady(m, ready, f, readyName);

  // steps.jsonl: indices, per-step PCM hashes and silence replacements.
  const steps = new Map<number, StepInfo>();
  let lines = 0, first: number | null = null, prev: number | null = null;
  try {
    for await (const s of reader.steps()) {
      const line = ++lines; // step line numbers count from 1 after the header line
      first ??= s.step;
      if (steps.has(s.step)) {
        f.add({ file: STEPS_FILE, where: `step line ${line}`, step: s.step, offset: s.offset, message: `${STEPS_FILE} step line ${line} (byte ${s.offset}) repeats step ${s.step}` });
      } else if (prev !== null && s.step !== prev + 1) {
        const gap = s.step > prev + 1 ? `step${s.step - prev > 2 ? `s ${prev + 1}…${s.step - 1} are` : ` ${prev + 1} is`} missing` : `step ${s.step} comes after step ${prev}`;
        f.add({ file: STEPS_FILE, where: `step line ${line}`, step: prev + 1, offset: s.offset, message: `${STEPS_FILE}: ${gap} (step line ${line}, byte ${s.offset}, holds step ${s.step})` });
      }
      if (!steps.has(s.step)) steps.set(s.step, { line, pcmHash: s.pcmHash, silenceIn: s.events.some((e) => e.kind === 'missing-frame') });
      prev = s.step;
    }
  } catch (err) {
    f.readError(err, STEPS_FILE);
  }
  if (first !== null && first !== 0) f.add({ file: STEPS_FILE, where: 'step line 1', step: 0, message: `${STEPS_FILE}: the first step line holds step ${first}; a session's steps start at 0 (steps 0…${first - 1} are missing)` });

  // The WAVs, each streamed once: digest and frames together.
  const input = await wavPass(reader, 'input', f);
  const output = await wavPass(reader, 'output', f);
  const canEndEarly = !complete || !packetsWhole;
  if (input && moshi) moshi.checkInput(input.hashes, chunks, steps, f, canEndEarly);
  else if (input) checkInput(input.hashes, chunks, steps, f, { canEndEarly, otherProtocol: otherProtocol || packets === 0 });
  if (output) checkOutput(output.hashes, output.silent, steps, f);

  if (complete) {
    checkCounts(m, { packets, packetBytes, steps: lines, inputSamples: input?.samples ?? null, outputSamples: output?.samples ?? null }, f);
    // A cleanly closed session's files end at whole records with patched sizes: a torn end is damage, not a crash.
    for (const r of reader.recoveries) if (r.code !== 'SESSION_ERR_CORRUPT') f.add(recoveryDamage(r));
  }
  for (const r of reader.recoveries) if (r.code === 'SESSION_ERR_CORRUPT') f.add(recoveryDamage(r));

  if (files !== null) {
    for (const [name, want] of [[PACKETS_FILE, files[PACKETS_FILE]], [STEPS_FILE, files[STEPS_FILE]]] as const) {
      const got = await fileDigest(reader, name).catch((err: unknown) => {
        f.readError(err, name);
        return null;
      });
      if (got === null) continue;
      if (got.sha256 !== want.sha256 || got.bytes !== want.bytes) {
        f.add({ file: name, where: 'sha256', message: `${name} is not the file recorded: ${got.bytes} bytes with sha256 ${got.sha256.slice(0, 16)}…, the manifest says ${want.bytes} bytes with ${want.sha256.slice(0, 16)}…` });
      } else f.checked.push(`${name}: sha256 matches the manifest`);
    }
    for (const [name, pass] of [[INPUT_WAV, input], [OUTPUT_WAV, output]] as const) {
      const want = files[name];
      if (pass === null) continue;
      if (pass.sha256 !== want.sha256 || pass.samples !== want.samples) {
        f.add({ file: name, where: 'sha256', message: `${name}'s samples are not the ones recorded: ${pass.samples} samples with sha256 ${pass.sha256.slice(0, 16)}…, the manifest says ${want.samples} with ${want.sha256.slice(0, 16)}…` });
      } else f.checked.push(`${name}: sha256 of the samples matches the manifest`);
    }
  } else if (m.version < 2) {
    f.unverified.push(`${MANIFEST_FILE}: format version ${m.version} has no checksums; verified by cross-checks between the files only`);
  } else if (!complete) {
    f.unverified.push(`${MANIFEST_FILE}: no final checksums (${m.status === 'recording' ? 'the writer never closed: a crash' : 'the recording failed'}); verified by cross-checks between the files only`);
  }
  return { damage: f.damage, moreDamage: f.more, checked: f.checked, unverified: f.unverified };
}

/** Throws SESSION_ERR_DAMAGED naming the first damaged places, when there are any. */
export function assertUndamaged(label: string, report: IntegrityReport): void {
  const d = report.damage;
  if (d.length === 0) return;
  const total = d.length + report.moreDamage;
  const rest = d.slice(1, 4).map((x) => `\n  also: ${x.message}`).join('');
  const more = total > 4 ? `\n  … ${total - 4} more damaged place${total - 4 > 1 ? 's' : ''}` : '';
  throw new SessionError('SESSION_ERR_DAMAGED', `${label}: damaged: ${d[0]!.message}${rest}${more}\n(the files disagree with their checksums or with each other: this is damage to the session, not a result of the model)`, {
    file: d[0]!.file, ...(d[0]!.offset === undefined ? {} : { offset: d[0]!.offset }), damage: d,
  });
}

function recoveryDamage(r: SessionRecovery): SessionDamage {
  return { file: r.file, where: `byte ${r.offset}`, offset: r.offset, message: r.code === 'SESSION_ERR_CORRUPT' ? r.message : `${r.message} — but the manifest says the session closed cleanly, so this is damage` };
}

function checkManifest(m: SessionManifest, f: Findings): void {
  if (m.version < 2 || m.integrity === undefined) return;
  const got = setupSha256(m as unknown as Record<string, unknown>);
  if (got !== m.integrity.setupSha256) {
    f.add({ file: MANIFEST_FILE, where: 'setup fields', message: `${MANIFEST_FILE}: the fields a replay is set up from (model, seed, sampling, platform, software, meta…) were changed after recording: their sha256 is ${got.slice(0, 16)}…, integrity.setupSha256 says ${m.integrity.setupSha256.slice(0, 16)}…` });
  } else f.checked.push(`${MANIFEST_FILE}: setup fields match integrity.setupSha256`);
  if (m.status === 'complete' && m.integrity.files === null) {
    f.add({ file: MANIFEST_FILE, where: 'integrity.files', message: `${MANIFEST_FILE}: says the session closed cleanly but holds no file checksums (integrity.files is null)` });
  }
}

/** The manifest against the server's `ready` message, which packets.bin holds CRC-checked. */
function checkReady(m: SessionManifest, ready: Record<string, unknown>, f: Findings, readyName: string): void {
  const pairs: [string, unknown, unknown][] = [
    ['seed', m.seed, ready.seed],
    ['audioSeed', m.audioSeed, ready.audioSeed],
    ['sampling', m.sampling, ready.sampling],
    ['model.id', m.model.id, ready.model],
    ['model.weights', m.model.weights, ready.weightsSha256],
    ['platform', m.platform, ready.fingerprint],
  ];
  if (m.meta.pace !== undefined) pairs.push(['meta.pace', m.meta.pace, ready.pace]);
  if (m.meta.session !== undefined) pairs.push(['meta.session', m.meta.session, ready.session]);
  let ok = 0;
  for (const [field, mine, theirs] of pairs) {
    if (theirs === undefined) continue;
    if (canonicalJson(mine) === canonicalJson(theirs)) {
      ok++;
      continue;
    }
    f.add({ file: MANIFEST_FILE, where: field, message: `${MANIFEST_FILE} ${field} is ${short(mine)}, but the server's ${readyName} in ${PACKETS_FILE} says ${short(theirs)}` });
  }
  if (ok > 0) f.checked.push(`${MANIFEST_FILE}: ${ok} setup fields match the ${readyName} in ${PACKETS_FILE}`);
}

const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
};

interface WavPass {
  readonly samples: number;
  readonly sha256: string;
  /** PCM hash of each whole frame. */
  readonly hashes: string[];
  /** Whether each whole frame is all zero bytes. */
  readonly silent: boolean[];
}

async function wavPass(reader: SessionReader, which: 'input' | 'output', f: Findings): Promise<WavPass | null> {
  let track: WavTrack;
  try {
    track = await reader.wav(which);
  } catch (err) {
    f.readError(err, which === 'input' ? INPUT_WAV : OUTPUT_WAV);
    return null;
  }
  const hash = new Sha256();
  const hashes: string[] = [];
  const silent: boolean[] = [];
  const frameBytes = FRAME_SAMPLES * 4;
  const buf = new Uint8Array(frameBytes);
  let fill = 0;
  try {
    for await (const chunk of track.sampleBytes()) {
      hash.update(chunk);
      for (let at = 0; at < chunk.length;) {
        const n = Math.min(frameBytes - fill, chunk.length - at);
        buf.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === frameBytes) {
          hashes.push(pcmHash(decodeFloat32(buf)));
          silent.push(buf.every((b) => b === 0));
          fill = 0;
        }
      }
    }
  } catch (err) {
    f.readError(err, track.file);
    return null;
  }
  return { samples: track.samples, sha256: toHex(hash.digest()), hashes, silent };
}

/**
 * input.wav frame i is the client's next AUDIO_CHUNK (chunks that came too late for their
 * step are skipped: dropped-frame), or silence for a step with a missing-frame event.
 */
function checkInput(frames: readonly string[], chunks: readonly string[], steps: ReadonlyMap<number, StepInfo>, f: Findings, o: { canEndEarly: boolean; otherProtocol: boolean }): void {
  if (o.otherProtocol) return;
  const silence = pcmHash(new Float32Array(FRAME_SAMPLES));
  const at = new Map<string, number[]>();
  for (const [k, h] of chunks.entries()) {
    const list = at.get(h);
    if (list) list.push(k);
    else at.set(h, [k]);
  }
  let next = 0;
  let matched = 0;
  const unmatched: number[] = [];
  let lastMatched = -1;
  for (let i = 0; i < frames.length; i++) {
    const h = frames[i]!;
    if (h === silence && steps.get(i)?.silenceIn === true) {
      matched++;
      lastMatched = i;
      continue;
    }
    const k = at.get(h)?.find((x) => x >= next) ?? -1;
    if (k < 0) {
      unmatched.push(i);
      continue;
    }
    next = k + 1;
    matched++;
    lastMatched = i;
  }
  // After a crash packets.bin may end before input.wav (the files are not written in step): frames past the last match cannot be checked.
  const trailing = o.canEndEarly ? unmatched.filter((i) => i > lastMatched) : [];
  for (const i of unmatched) {
    if (o.canEndEarly && i > lastMatched) continue;
    f.add({ file: INPUT_WAV, where: `frame ${i}`, step: i, message: `${INPUT_WAV} frame ${i} (the input of step ${i}) differs from the client's audio in ${PACKETS_FILE} (CRC-checked)` });
  }
  if (trailing.length > 0) f.unverified.push(`${INPUT_WAV}: frames ${trailing[0]}…${trailing.at(-1)} have no client audio in ${PACKETS_FILE} to check against (it ends earlier)`);
  if (matched > 0) f.checked.push(`${INPUT_WAV}: ${matched} of ${frames.length} frames match the client's audio in ${PACKETS_FILE}`);
}

/** The server's metadata message (0x04) carries the session's ready under `solacelive`. */
function moshiReady(bytes: Uint8Array): Record<string, unknown> | null {
  let msg: MoshiMessage;
  try {
    msg = decodeMoshi(bytes);
  } catch {
    return null;
  }
  if (msg.kind !== 'metadata' || !isObject(msg.json)) return null;
  const r = msg.json.solacelive;
  return isObject(r) ? r : null;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A Moshi session's client audio: the 0x01 messages' Ogg Opus bytes, demuxed as one byte
 * stream and decoded as the server did (one decoder, then exact 1920-sample frames cut with
 * the session's recorded framing). Only the build the server used gives the same samples;
 * another build is checked by frame count.
 */
class MoshiInput {
  private decoder: OpusInputFrames | null = null;
  /** Same libopus build as the server's: frames compare bit for bit. */
  private exact = false;
  private frames = 0;
  private broke: string | null = null;
  /** The client's EOS page was read: the server padded the last partial frame and took no more input. */
  private eos = false;
  private ended = false;

  static async open(m: SessionManifest, options: VerifyOptions, f: Findings): Promise<MoshiInput> {
    const x = new MoshiInput();
    const info = isObject(m.meta.wireInfo) ? m.meta.wireInfo : {};
    const used = typeof info.opus === 'string' ? info.opus : null;
    if (used === null) {
      f.unverified.push(`${INPUT_WAV}: ${MANIFEST_FILE} meta.wireInfo.opus names no Opus build (the server never decoded audio), so the client's audio in ${PACKETS_FILE} is not re-decoded`);
      return x;
    }
    const framing = recordedInputFraming(info);
    if (framing === null) {
      f.unverified.push(`${INPUT_WAV}: ${MANIFEST_FILE} meta.wireInfo.inputFraming ${JSON.stringify(info.inputFraming)} is not a framing this build knows, so the client's audio in ${PACKETS_FILE} is not re-decoded`);
      return x;
    }
    if (!options.libopus) {
      f.unverified.push(`${INPUT_WAV}: no libopus was given to re-decode the client's Ogg Opus audio in ${PACKETS_FILE}, so input.wav is not cross-checked against it`);
      return x;
    }
    let lib: Libopus;
    try {
      lib = await options.libopus();
    } catch (err) {
      f.unverified.push(`${INPUT_WAV}: libopus did not load (${(err as Error).message}), so the client's audio in ${PACKETS_FILE} is not re-decoded`);
      return x;
    }
    const mine = describeLibopus(lib.identity);
    x.exact = mine === used;
    if (!x.exact) {
      f.unverified.push(`${INPUT_WAV}: the server decoded the client's audio with ${used}, this machine has ${mine}: the input cannot be re-decoded bit-exactly, so only its frame count is checked against ${PACKETS_FILE}`);
    }
    x.decoder = new OpusInputFrames({ lib, framing, onPage: (page) => { if (page.eos) x.eos = true; } });
    return x;
  }

  /** One client → server message: its audio, cut into frames (hashes appended to `chunks` when exact). */
  client(bytes: Uint8Array, offset: number, chunks: string[]): void {
    if (!this.decoder || this.broke !== null || this.ended || bytes[0] !== 0x01) return;
    this.decoder.push(bytes.subarray(1));
    // read() hands out the frames before a bad page first, then throws on the next call.
    for (;;) {
      let frames: Float32Array[];
      try {
        frames = this.decoder.read();
      } catch (err) {
        // The server stopped at the same place (the record is CRC-checked: the client sent it so).
        this.broke = `the client's Ogg Opus stream breaks in the message at byte ${offset} (${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message})`;
        return;
      }
      if (frames.length === 0) break;
      for (const frame of frames) this.frame(frame, chunks);
    }
    if (!this.eos) return;
    // As the server's input end: the last partial frame, padded, is one more step's input.
    this.ended = true;
    const last = this.decoder.flush();
    if (last) this.frame(last.frame, chunks);
  }

  private frame(pcm: Float32Array, chunks: string[]): void {
    this.frames++;
    if (this.exact) chunks.push(pcmHash(pcm));
  }

  finish(): void {
    this.decoder?.close();
  }

  checkInput(frames: readonly string[], chunks: readonly string[], steps: ReadonlyMap<number, StepInfo>, f: Findings, canEndEarly: boolean): void {
    if (!this.decoder) return;
    if (this.broke !== null) f.checked.push(`${PACKETS_FILE}: ${this.broke}; the ${this.frames} frames decoded before it are all the server could step`);
    if (this.exact) {
      checkInput(frames, chunks, steps, f, { canEndEarly, otherProtocol: false });
      return;
    }
    // Another build: samples may differ, but every input frame that is not a missing-frame silence needs one decoded frame.
    const silence = pcmHash(new Float32Array(FRAME_SAMPLES));
    const fromClient = frames.filter((h, i) => !(h === silence && steps.get(i)?.silenceIn === true)).length;
    if (fromClient > this.frames && !canEndEarly) {
      f.add({ file: INPUT_WAV, where: `frame ${frames.length - 1}`, message: `${INPUT_WAV} holds ${fromClient} frames of client audio, but the client's audio in ${PACKETS_FILE} decodes to only ${this.frames} frames` });
    } else f.checked.push(`${INPUT_WAV}: ${fromClient} frames of client audio, ${this.frames} decoded from ${PACKETS_FILE} (frame count only)`);
  }
}

/** output.wav frame i against step i's PCM hash (silence when the step made no audio). */
function checkOutput(frames: readonly string[], silent: readonly boolean[], steps: ReadonlyMap<number, StepInfo>, f: Findings): void {
  let checkedFrames = 0;
  for (let i = 0; i < frames.length; i++) {
    const s = steps.get(i);
    if (s === undefined) continue; // no step line (a crash, or a missing line reported above)
    checkedFrames++;
    const ok = s.pcmHash === null ? silent[i] === true : frames[i] === s.pcmHash;
    if (ok) continue;
    const want = s.pcmHash === null ? 'silence (the step made no audio)' : `PCM hash ${s.pcmHash}`;
    f.add({ file: OUTPUT_WAV, where: `frame ${i}`, step: i, message: `${OUTPUT_WAV} frame ${i} (the output of step ${i}) is not what ${STEPS_FILE} step line ${s.line} recorded: ${want}` });
  }
  if (checkedFrames > 0) f.checked.push(`${OUTPUT_WAV}: ${checkedFrames} frames checked against the PCM hashes in ${STEPS_FILE}`);
}

function checkCounts(m: SessionManifest, got: { packets: number; packetBytes: number; steps: number; inputSamples: number | null; outputSamples: number | null }, f: Findings): void {
  const c = m.counts;
  const rows: [string, string, number, number | null][] = [
    [PACKETS_FILE, 'packets', c.packets, got.packets],
    [PACKETS_FILE, 'packetBytes', c.packetBytes, got.packetBytes],
    [STEPS_FILE, 'steps', c.steps, got.steps],
    [INPUT_WAV, 'inputSamples', c.inputSamples, got.inputSamples],
    [OUTPUT_WAV, 'outputSamples', c.outputSamples, got.outputSamples],
  ];
  for (const [file, k, want, have] of rows) {
    if (have === null || have === want) continue;
    f.add({ file, where: `counts.${k}`, message: `${file} holds ${have} ${k === 'packetBytes' ? 'message bytes' : k.replace(/Samples$/, ' samples')}, the manifest's counts.${k} says ${want}` });
  }
}

async function fileDigest(reader: SessionReader, file: string): Promise<{ bytes: number; sha256: string }> {
  const h = new Sha256();
  let bytes = 0;
  for await (const chunk of reader.raw(file)) {
    h.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: toHex(h.digest()) };
}
