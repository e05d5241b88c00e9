// What every raw WebSocket test peer shares, whatever protocol it decodes: a real `ws` client
// with its open/close promises, and bounded waits woken by each message or the close. Peers
// for the packet protocol (test/server/wire.ts) and the Moshi protocol (test/server/moshi/peer.ts)
// add their decoding and their sends.
import WebSocket from 'ws';

export abstract class WsPeer {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  closeInfo: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  constructor(url: string | URL, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      resolve(this.closeInfo);
      this.wake();
    }));
    this.ws.on('message', (data: Buffer) => {
      this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.wake();
    });
  }

  /** One message from the server (a view ws may reuse: copy what is kept). */
  protected abstract receive(bytes: Uint8Array): void;
  /** What was received so far, for a timeout's message. */
  protected abstract describe(): string;

  /** Waits until `pred` holds over what was received, at most `ms`; throws at once if the socket closed first. */
  async until(pred: (p: this) => boolean, ms = 3000, what = 'condition'): Promise<void> {
    const deadline = performance.now() + ms;
    while (!pred(this)) {
      // Nothing more can arrive after the close: say why it closed instead of waiting out the time.
      if (this.closeInfo !== null) throw new Error(`closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}; ${this.describe()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; ${this.describe()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async closeWithin(ms = 3000): Promise<{ code: number; reason: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms; ${this.describe()}`)), ms)));
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
