// steps.jsonl: one JSON object per step, each line closing with a CRC-32 member.
//
// JSON lines rather than a binary log: a step is a few dozen integers, a hash, some events
// and eight span times (~0.5 KB), so size and parse time are irrelevant next to packets.bin,
// while `jq`, `grep`, `diff` and a text editor work on the file directly, which is what a
// person debugging a divergence reaches for first. Integrity comes from the per-line CRC.
//
// The CRC is the last member, `,"crc":"xxxxxxxx"}`: CRC-32 of the line's UTF-8 bytes with
// that member removed (i.e. of the JSON text the writer serialised). Lines stay plain JSON,
// and checking needs no canonical re-serialisation: strip the fixed 18-byte suffix, add "}".
// Line 1 is a header, `{"format":"solacelive.steps","version":1,"crc":…}`.
import { crc32 } from './crc32.ts';
import { SessionError } from './errors.ts';
import { STEPS_FILE, SUPPORTED_LOG_VERSIONS } from './layout.ts';
import { LogDecoder } from './log.ts';
import type { LogReadOptions } from './log.ts';
import { PCM_HASH_PATTERN } from './pcm-hash.ts';
import type { StepEvent, StepEventKind } from '../../src/telemetry/events.ts';
import { SPAN_NAMES } from '../../src/telemetry/spans.ts';
import type { StepSpans } from '../../src/telemetry/spans.ts';
import type { StepRecord } from '../../src/engine/step-record.ts';

// The line is the session core's finished-step record without its PCM (one type, not a copy).
export type { StepEvent, StepEventKind, StepSpans, StepRecord };

export const STEPS_FORMAT = 'solacelive.steps';
export const STEPS_VERSION = 1;
/** A line longer than this is corrupt (a real step is under 4 KB). Bounds reader memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface ReadStep extends StepRecord {
  /** Byte offset of the line in steps.jsonl. */
  readonly offset: number;
}

// ---------------------------------------------------------------------------------------
// Schema: one validator for the writer (caller mistakes) and the reader (bad lines), which
// also builds the canonical object, so what is written is exactly what is read back.

type FieldType = 'uint' | 'int' | 'number' | 'string' | readonly string[];

// Keyed by every event kind of the telemetry union: adding a kind there fails to compile here.
const EVENT_FIELDS: { readonly [K in StepEventKind]: readonly (readonly [string, FieldType])[] } = {
  'late-frame': [['seq', 'uint'], ['lateMs', 'number']],
  'missing-frame': [['replacement', ['silence']]],
  'dropped-frame': [['seq', 'uint']],
  'skipped-decode': [['reason', 'string']],
  'dropped-partial': [['token', 'int']],
  'reset': [['reason', 'string']],
  'engine-restart': [['reason', 'string']],
  'protocol-error': [['code', 'string'], ['message', 'string']],
  'ignored-message': [['byte', 'uint'], ['reason', 'string']],
  'error': [['message', 'string']],
};

class SchemaError extends Error {}

function fieldOk(v: unknown, t: FieldType): boolean {
  if (Array.isArray(t)) return t.includes(v as string);
  switch (t) {
    case 'uint': return Number.isSafeInteger(v) && (v as number) >= 0;
    case 'int': return Number.isSafeInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    default: return typeof v === 'string';
  }
}

function ints(v: unknown, name: string): number[] {
  if (!Array.isArray(v)) throw new SchemaError(`${name} must be an array of integers`);
  for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) throw new SchemaError(`${name}[${i}] is ${JSON.stringify(v[i])}, not an integer`);
  return v.slice();
}

function eventOf(e: unknown, i: number): StepEvent {
  if (typeof e !== 'object' || e === null) throw new SchemaError(`events[${i}] is not an object`);
  const kind = (e as { kind?: unknown }).kind;
  const fields = Object.hasOwn(EVENT_FIELDS, kind as string) ? EVENT_FIELDS[kind as StepEventKind] : undefined;
  if (fields === undefined) throw new SchemaError(`events[${i}].kind ${JSON.stringify(kind)} is not a step event kind (${Object.keys(EVENT_FIELDS).join(', ')})`);
  const out: Record<string, unknown> = { kind };
  for (const [name, type] of fields) {
    const v = (e as Record<string, unknown>)[name];
    if (!fieldOk(v, type)) throw new SchemaError(`events[${i}] (${kind}).${name} is ${JSON.stringify(v)}, expected ${Array.isArray(type) ? type.join(' | ') : type}`);
    out[name] = v;
  }
  return out as StepEvent;
}

function spansOf(v: unknown): StepSpans {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError('spans must be an object of span name → ms');
  for (const k of Object.keys(v)) {
    if (!(SPAN_NAMES as readonly string[]).includes(k)) throw new SchemaError(`spans.${k} is not a span name (${SPAN_NAMES.join(', ')})`);
  }
  const out: Record<string, number> = {};
  for (const name of SPAN_NAMES) {
    const ms = (v as Record<string, unknown>)[name];
    if (ms === undefined) continue;
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) throw new SchemaError(`spans['${name}'] is ${JSON.stringify(ms)}, not a finite ms >= 0`);
    out[name] = ms;
  }
  return out as StepSpans;
}

/** The canonical step (fixed member order, known fields only), or a SchemaError. */
function stepOf(v: unknown): StepRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError('a step must be a JSON object');
  const r = v as Record<string, unknown>;
  if (!Number.isSafeInteger(r.step) || (r.step as number) < 0) throw new SchemaError(`step is ${JSON.stringify(r.step)}, not an integer >= 0`);
  if (!(typeof r.timeMs === 'number' && Number.isFinite(r.timeMs) && r.timeMs >= 0)) throw new SchemaError(`timeMs is ${JSON.stringify(r.timeMs)}, not a finite ms >= 0`);
  if (r.text !== null && !Number.isSafeInteger(r.text)) throw new SchemaError(`text is ${JSON.stringify(r.text)}, not an integer or null`);
  if (r.textPiece !== null && typeof r.textPiece !== 'string') throw new SchemaError(`textPiece is ${JSON.stringify(r.textPiece)}, not a string or null`);
  if (r.pcmHash !== null && !(typeof r.pcmHash === 'string' && PCM_HASH_PATTERN.test(r.pcmHash))) throw new SchemaError(`pcmHash is ${JSON.stringify(r.pcmHash)}, not 32 lowercase hex digits or null`);
  if (!Array.isArray(r.events)) throw new SchemaError('events must be an array');
  return {
    step: r.step as number,
    timeMs: r.timeMs,
    inputCodes: ints(r.inputCodes, 'inputCodes'),
    text: r.text as number | null,
    textPiece: r.textPiece as string | null,
    audioCodes: r.audioCodes === null ? null : ints(r.audioCodes, 'audioCodes'),
    pcmHash: r.pcmHash as string | null,
    events: r.events.map(eventOf),
    spans: spansOf(r.spans),
  };
}

// ---------------------------------------------------------------------------------------
// Encoding

const encoder = new TextEncoder();
const CRC_KEY = ',"crc":"';
const SUFFIX_BYTES = CRC_KEY.length + 8 + 2; // ,"crc":"xxxxxxxx"}
const CLOSE_BRACE = new Uint8Array([0x7d]);
const HEX = '0123456789abcdef';
/** Reused for every line: the recorder encodes one per step on the server's loop, where allocations cost. */
let scratch = new Uint8Array(4096);

/** A JSON object's text as a CRC-suffixed line, newline included. */
function line(json: string): Uint8Array {
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  const need = 3 * json.length + SUFFIX_BYTES + 1;
  if (scratch.length < need) scratch = new Uint8Array(need);
  const { written } = encoder.encodeInto(json, scratch);
  const crc = crc32(scratch, 0, 0, written);
  let at = written - 1; // over the closing brace: the crc member goes before it
  for (let i = 0; i < CRC_KEY.length; i++) scratch[at++] = CRC_KEY.charCodeAt(i);
  for (let shift = 28; shift >= 0; shift -= 4) scratch[at++] = HEX.charCodeAt((crc >>> shift) & 0xf);
  scratch[at++] = 0x22; // "
  scratch[at++] = 0x7d; // }
  scratch[at++] = 0x0a; // \n
  return scratch.slice(0, at);
}

export function encodeStepsHeader(): Uint8Array {
  return line(JSON.stringify({ format: STEPS_FORMAT, version: STEPS_VERSION }));
}

/**
 * Validates a step and returns its line. Throws SESSION_ERR_INVALID naming the bad field (a
 * NaN would otherwise become `null` in JSON and the session would lie).
 */
export function encodeStepLine(step: StepRecord): Uint8Array {
  return line(directStepJson(step) ?? canonicalStepJson(step));
}

/** The line's JSON the general way: the canonical object (which names a bad field), stringified. */
export function canonicalStepJson(step: StepRecord): string {
  try {
    return JSON.stringify(stepOf(step));
  } catch (err) {
    if (err instanceof SchemaError) throw new SessionError('SESSION_ERR_INVALID', `step record${Number.isSafeInteger(step?.step) ? ` ${step.step}` : ''}: ${err.message}`, { file: STEPS_FILE });
    throw err;
  }
}

const SPAN_SET: ReadonlySet<string> = new Set(SPAN_NAMES);

/**
 * The same text as canonicalStepJson, written directly (no canonical copy, a third of the
 * time: the recorder pays it per step on the server's loop), for a step that passes every
 * check; null for anything else, which then takes the canonical way and its error.
 */
export function directStepJson(r: StepRecord): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return null;
  const { step, timeMs, text, textPiece, pcmHash, events, spans } = r;
  if (!(Number.isSafeInteger(step) && step >= 0)) return null;
  if (!(typeof timeMs === 'number' && Number.isFinite(timeMs) && timeMs >= 0)) return null;
  if (text !== null && !Number.isSafeInteger(text)) return null;
  if (textPiece !== null && typeof textPiece !== 'string') return null;
  if (pcmHash !== null && !(typeof pcmHash === 'string' && PCM_HASH_PATTERN.test(pcmHash))) return null;
  const inputCodes = intsJson(r.inputCodes);
  const audioCodes = r.audioCodes === null ? 'null' : intsJson(r.audioCodes);
  if (inputCodes === null || audioCodes === null || !Array.isArray(events)) return null;
  let ev = '[';
  for (let i = 0; i < events.length; i++) {
    const e = eventJson(events[i]);
    if (e === null) return null;
    ev += i === 0 ? e : `,${e}`;
  }
  const sp = spansJson(spans);
  if (sp === null) return null;
  return `{"step":${step},"timeMs":${timeMs},"inputCodes":${inputCodes},"text":${text},"textPiece":${JSON.stringify(textPiece)},"audioCodes":${audioCodes},"pcmHash":${JSON.stringify(pcmHash)},"events":${ev}],"spans":${sp}}`;
}

/**
 * True when directStepJson would write this step and it has no events and a well-formed
 * textPiece: checked without writing any text (formatting its numbers is most of a line's
 * cost), so the writer thread can write the line from the step's fields (writer-thread.ts).
 */
export function directStepOk(r: StepRecord): boolean {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const { step, timeMs, text, textPiece, pcmHash, events, spans } = r;
  if (!(Number.isSafeInteger(step) && step >= 0)) return false;
  if (!(typeof timeMs === 'number' && Number.isFinite(timeMs) && timeMs >= 0)) return false;
  if (text !== null && !Number.isSafeInteger(text)) return false;
  if (textPiece !== null && !(typeof textPiece === 'string' && textPiece.isWellFormed())) return false;
  if (pcmHash !== null && !(typeof pcmHash === 'string' && PCM_HASH_PATTERN.test(pcmHash))) return false;
  if (!intsOk(r.inputCodes) || !(r.audioCodes === null || intsOk(r.audioCodes))) return false;
  if (!Array.isArray(events) || events.length !== 0) return false;
  if (typeof spans !== 'object' || spans === null || Array.isArray(spans)) return false;
  for (const k of Object.keys(spans)) if (!SPAN_SET.has(k)) return false;
  for (const name of SPAN_NAMES) {
    const ms = (spans as Record<string, unknown>)[name];
    if (ms !== undefined && !(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) return false;
  }
  return true;
}

function intsOk(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return false;
  return true;
}

function intsJson(v: unknown): string | null {
  if (!Array.isArray(v)) return null;
  for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return null;
  return `[${v.join(',')}]`;
}

function eventJson(e: unknown): string | null {
  if (typeof e !== 'object' || e === null) return null;
  const kind = (e as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(EVENT_FIELDS, kind)) return null;
  let out = `{"kind":${JSON.stringify(kind)}`;
  for (const [name, type] of EVENT_FIELDS[kind as StepEventKind]) {
    const v = (e as Record<string, unknown>)[name];
    if (!fieldOk(v, type)) return null;
    out += `,"${name}":${JSON.stringify(v)}`;
  }
  return `${out}}`;
}

function spansJson(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  for (const k of Object.keys(v)) if (!SPAN_SET.has(k)) return null;
  let out = '';
  for (const name of SPAN_NAMES) {
    const ms = (v as Record<string, unknown>)[name];
    if (ms === undefined) continue;
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) return null;
    out += `${out === '' ? '' : ','}"${name}":${ms}`;
  }
  return `{${out}}`;
}

// ---------------------------------------------------------------------------------------
// Decoding

const decoder = new TextDecoder('utf-8', { fatal: true });
const CRC_KEY_BYTES = encoder.encode(CRC_KEY);

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

/** The JSON value of the line b[s, e) (no newline) if its CRC checks, else why not. */
function checkLine(b: Uint8Array, s: number, e: number): { ok: true; value: unknown } | { ok: false; reason: string } {
  const suffix = e - SUFFIX_BYTES;
  if (suffix < s + 1 || b[s] !== 0x7b) return { ok: false, reason: 'line is not a CRC-suffixed JSON object' };
  for (let i = 0; i < CRC_KEY_BYTES.length; i++) if (b[suffix + i] !== CRC_KEY_BYTES[i]) return { ok: false, reason: 'line does not end with its crc member' };
  let stored = 0;
  for (let i = 0; i < 8; i++) {
    const c = b[suffix + CRC_KEY_BYTES.length + i]!;
    if (!isHex(c)) return { ok: false, reason: 'line crc is not 8 lowercase hex digits' };
    stored = stored * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  if (b[e - 2] !== 0x22 || b[e - 1] !== 0x7d) return { ok: false, reason: 'line does not end with its crc member' };
  if (crc32(CLOSE_BRACE, crc32(b, 0, s, suffix)) !== stored) return { ok: false, reason: 'line CRC mismatch' };
  // The CRC held, so anything wrong from here on was written that way: a writer bug, not rot.
  try {
    return { ok: true, value: JSON.parse(decoder.decode(b.subarray(s, suffix)) + '}') };
  } catch (err) {
    return { ok: false, reason: `line passes its CRC but is not JSON (${(err as Error).message})` };
  }
}

/** Push parser for steps.jsonl (see LogReadOptions for salvage and strict). */
export class StepLogDecoder extends LogDecoder<ReadStep> {
  private headerSeen = false;
  private linesSeen = 0;
  /** Where to resume looking for the newline, relative to the window start. */
  private searchFrom = 0;
  /** Inside an over-long line (salvage): skip until its newline. */
  private discarding = false;

  constructor(options: LogReadOptions = {}, file: string = STEPS_FILE) {
    super(file, options);
  }

  protected parse(final: boolean): void {
    const w = this.window;
    while (this.error === null && (w.length > 0 || (final && this.linesSeen === 0 && !this.headerSeen))) {
      const b = w.view();
      const nl = b.indexOf(0x0a, this.searchFrom);
      if (nl < 0) {
        if (b.length > MAX_LINE_BYTES || this.discarding) {
          this.corrupt(w.base, b.length, `a line longer than ${MAX_LINE_BYTES} bytes`);
          if (this.error !== null) return;
          this.discarding = true;
          w.consume(b.length);
          this.searchFrom = 0;
          continue;
        }
        if (!final) {
          this.searchFrom = b.length;
          return;
        }
        if (b.length >= 2 && b[b.length - 1] !== 0x0a && checkLine(b, 0, b.length - 1).ok) {
          // A whole line followed by a stray byte is no torn write (writes are in order): its
          // newline was damaged.
          this.corrupt(w.base, b.length, `line ${this.linesSeen + 1}: its newline is damaged`);
        } else if (this.linesSeen === 0 && !this.headerSeen) {
          this.truncated(w.base, b.length, b.length === 0 ? 'the file is empty: it ends before its header line' : 'the file ends inside its header line');
          this.linesSeen = 1;
        } else {
          this.truncated(w.base, b.length, 'the file ends inside a line');
        }
        w.consume(b.length);
        return;
      }
      this.searchFrom = 0;
      if (this.discarding) {
        this.corrupt(w.base, nl + 1, '');
        this.discarding = false;
      } else {
        this.line(b, nl);
      }
      this.linesSeen++;
      w.consume(nl + 1);
    }
  }

  /** Handles the complete line b[0, nl). */
  private line(b: Uint8Array, nl: number): void {
    const base = this.window.base;
    const c = checkLine(b, 0, nl);
    if (c.ok) {
      this.accept(c.value, base, nl + 1);
      return;
    }
    const reason = `line ${this.linesSeen + 1}: ${c.reason}`;
    if (this.salvage) {
      // A lost newline merges two lines into one bad one; the later line may still be whole.
      for (let p = b.indexOf(0x7b, 1); p >= 0 && p < nl; p = b.indexOf(0x7b, p + 1)) {
        const inner = checkLine(b, p, nl);
        if (inner.ok) {
          this.corrupt(base, p, reason);
          this.accept(inner.value, base + p, nl + 1 - p);
          return;
        }
      }
    }
    this.corrupt(base, nl + 1, reason);
  }

  private accept(value: unknown, offset: number, length: number): void {
    const isHeader = typeof value === 'object' && value !== null && Object.hasOwn(value, 'format');
    if (isHeader) {
      const h = value as { format?: unknown; version?: unknown };
      if (this.headerSeen || this.linesSeen > 0) {
        this.corrupt(offset, length, `line ${this.linesSeen + 1}: a header line after the first line`);
        return;
      }
      if (h.format !== STEPS_FORMAT) {
        this.fail(new SessionError('SESSION_ERR_NOT_A_SESSION', `${this.file} is not a SolaceLive step log (format ${JSON.stringify(h.format)})`, { file: this.file, offset }));
        return;
      }
      if (!SUPPORTED_LOG_VERSIONS.includes(h.version as number)) {
        this.fail(new SessionError('SESSION_ERR_VERSION', `${this.file} is step-log version ${JSON.stringify(h.version)}; this reader supports version ${SUPPORTED_LOG_VERSIONS.join(', ')}`, { file: this.file, offset, found: typeof h.version === 'number' ? h.version : String(h.version), supported: SUPPORTED_LOG_VERSIONS }));
        return;
      }
      this.headerSeen = true;
      return;
    }
    if (!this.headerSeen && this.linesSeen === 0) {
      // Under salvage the steps are still good; the report marks where the header should be.
      this.corrupt(offset, 0, 'line 1 is a step, not the header line');
      if (this.error !== null) return;
    }
    let step: StepRecord;
    try {
      step = stepOf(value);
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      this.corrupt(offset, length, `line ${this.linesSeen + 1} passes its CRC but is not a valid step: ${err.message}`);
      return;
    }
    this.emit({ ...step, offset });
  }
}
