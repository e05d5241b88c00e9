// One proxied connection on disk: the session files through SessionWriter (packets.bin both
// ways with capture times, input.wav = the client's audio, output.wav = the server's, lined
// up step k ↔ client frame k ↔ server frame k − warm-up) and proxy.json with the figures.
// Disk trouble stops the recording, never the connection.
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pcmHash } from '../../src/engine/pcm-hash.ts';
import { CLIENT_TO_SERVER, PROXY_FILE, SERVER_TO_CLIENT, SessionWriter, diskError, type CloseResult, type ManifestInit, type SessionError, type StepRecord } from '../format/node.ts';
import type { ProxyFile } from '../format/proxied.ts';
import type { Side, TimedFrame } from '../measure/index.ts';

/** Frames one side may run ahead of the other before steps are written with the other side missing. */
const MAX_UNPAIRED = 250;

export type { ProxyFile };

export class ProxyRecording {
  readonly dir: string;
  private readonly writer: SessionWriter;
  private readonly warmup: number;
  private readonly inputs = new Map<number, TimedFrame>();
  private readonly outputs = new Map<number, TimedFrame>();
  private next = 0;
  /** Frames that came after their step was written without them. */
  unpaired = 0;

  private constructor(dir: string, writer: SessionWriter, warmup: number) {
    this.dir = dir;
    this.writer = writer;
    this.warmup = warmup;
  }

  static async create(dir: string, init: ManifestInit, warmupFrames: number, onError: (e: SessionError) => void, maxPendingBytes?: number): Promise<ProxyRecording> {
    const writer = await SessionWriter.create(dir, init, { onError, ...(maxPendingBytes === undefined ? {} : { maxPendingBytes }) });
    return new ProxyRecording(dir, writer, warmupFrames);
  }

  get error(): SessionError | null {
    return this.writer.error;
  }

  packet(side: Side, bytes: Uint8Array, tMs: number): void {
    this.writer.appendPacket(side === 'client' ? CLIENT_TO_SERVER : SERVER_TO_CLIENT, bytes, Math.max(0, tMs));
  }

  frame(side: Side, f: TimedFrame): void {
    const step = side === 'client' ? f.index : f.index + this.warmup;
    if (step < this.next) {
      this.unpaired++;
      return;
    }
    (side === 'client' ? this.inputs : this.outputs).set(step, f);
    this.drain(false);
  }

  private drain(all: boolean): void {
    for (;;) {
      const input = this.inputs.get(this.next);
      const output = this.outputs.get(this.next);
      const whole = input !== undefined && (output !== undefined || this.next < this.warmup);
      const pending = this.inputs.size + this.outputs.size;
      if (!whole && !(pending > 0 && (all || pending > MAX_UNPAIRED))) return;
      this.step(this.next, input, output);
      this.inputs.delete(this.next);
      this.outputs.delete(this.next);
      this.next++;
    }
  }

  private step(k: number, input: TimedFrame | undefined, output: TimedFrame | undefined): void {
    const pcm = output?.pcm ?? null;
    const record: StepRecord = {
      step: k,
      timeMs: Math.max(0, output?.t ?? input?.t ?? 0),
      inputCodes: [],
      text: null,
      textPiece: null,
      audioCodes: null,
      pcmHash: pcm === null ? null : pcmHash(pcm),
      events: input === undefined ? [{ kind: 'missing-frame', replacement: 'silence' }] : [],
      spans: {},
    };
    this.writer.appendStep(record, input?.pcm ?? new Float32Array(1920), pcm);
  }

  /** Writes the remaining steps, proxy.json, and closes the session files. */
  async close(file: ProxyFile): Promise<{ result: CloseResult; figuresError: SessionError | null }> {
    this.drain(true);
    let figuresError: SessionError | null = null;
    const path = join(this.dir, PROXY_FILE);
    try {
      const fh = await open(`${path}.tmp`, 'w');
      try {
        await fh.writeFile(`${JSON.stringify(file, null, 1)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(`${path}.tmp`, path);
    } catch (err) {
      await unlink(`${path}.tmp`).catch(() => undefined);
      figuresError = diskError(err, `write ${path}`);
    }
    const result = await this.writer.close();
    return { result, figuresError };
  }
}
