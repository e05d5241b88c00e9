import { describe, expect, it } from 'vitest';
import { isLoopbackHost, resolveServerOptions, SERVER_DEFAULTS, ServerOptionsError } from '../../src/server/options.ts';

describe('resolveServerOptions', () => {
  it('defaults to 127.0.0.1:8788, a 5 s heartbeat, and a bound on every queue', () => {
    const o = resolveServerOptions();
    expect(o.host).toBe('127.0.0.1');
    expect(o.port).toBe(8788);
    expect(o.heartbeatMs).toBe(5000);
    expect(o.token).toBeNull();
    for (const k of ['maxSessions', 'maxMessageBytes', 'maxInputRate', 'inputBurst', 'maxQueuedFrames', 'maxSendQueueBytes', 'deadPeerMs'] as const) {
      expect(Number.isFinite(o[k]) && o[k] > 0).toBe(true);
    }
    expect(o.maxMessageBytes).toBeGreaterThanOrEqual(17 + 7680);
  });

  it('refuses a non-loopback bind without a token, with a message that says what to do', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      let err: unknown;
      try {
        resolveServerOptions({ host });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ServerOptionsError);
      expect((err as ServerOptionsError).code).toBe('SERVER_ERR_INSECURE_BIND');
      expect((err as Error).message).toContain('--token');
      expect((err as Error).message).toContain(host);
    }
    expect(resolveServerOptions({ host: '0.0.0.0', token: 'long-enough-token' }).token).toBe('long-enough-token');
  });

  it('rejects weak tokens and out-of-range numbers', () => {
    expect(() => resolveServerOptions({ token: 'short' })).toThrow(/at least 8/);
    expect(() => resolveServerOptions({ token: 'has a space in it' })).toThrow(/without spaces/);
    expect(() => resolveServerOptions({ port: 70000 })).toThrow(/port/);
    expect(() => resolveServerOptions({ maxSessions: 0 })).toThrow(/maxSessions/);
    expect(() => resolveServerOptions({ maxInputRate: 1.5 })).toThrow(/maxInputRate/);
    expect(() => resolveServerOptions({ maxMessageBytes: 100 })).toThrow(/maxMessageBytes/);
    expect(() => resolveServerOptions({ heartbeatMs: 1000, deadPeerMs: 1000 })).toThrow(/deadPeerMs/);
    expect(() => resolveServerOptions({ sendHighWaterBytes: 10_000, skipDecodeBytes: 5000 })).toThrow(/skipDecodeBytes/);
    expect(() => resolveServerOptions({ maxLagMs: 0 })).toThrow(/maxLagMs/);
    expect(() => resolveServerOptions({ admission: 'cpu' as never })).toThrow(/admission must be "cost" or "max-sessions", got "cpu"/);
  });

  it('keeps given values and fills the rest from the named defaults', () => {
    const o = resolveServerOptions({ port: 0, maxSessions: 9 });
    expect(o.port).toBe(0);
    expect(o.maxSessions).toBe(9);
    expect(o.maxQueuedFrames).toBe(SERVER_DEFAULTS.maxQueuedFrames);
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback addresses from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '127.0.0.256', 'localhost.example.com', '']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
