// Host and Origin rules (src/server/request-guard.ts), the one place serve and view judge who
// may talk to them. The servers' own tests check the rules are applied on real sockets.
import { describe, expect, it } from 'vitest';
import { checkRequest, hostName, isLoopbackHost, normaliseOrigin, parseAllowOrigins } from '../../src/server/request-guard.ts';

const loopback = { bindHost: '127.0.0.1', allowOrigins: [] };

describe('Host names on a loopback server', () => {
  it('accepts every spelling of loopback, with or without a port', () => {
    for (const host of ['127.0.0.1:8788', 'localhost', 'LOCALHOST:1', '[::1]:8788', '[::1]', '127.1.2.3', '[::ffff:127.0.0.1]:80']) {
      expect(checkRequest({ host }, loopback), host).toBeNull();
    }
  });

  it('refuses foreign, missing and malformed Host names (DNS rebinding gives a foreign page a foreign Host)', () => {
    for (const host of ['evil.example', 'evil.example:8788', '127.0.0.1.evil.example', 'localhost.evil', '10.0.0.1', '', '[::2]:80', 'a b', '127.0.0.1:8788@evil']) {
      expect(checkRequest({ host }, loopback), host).toMatchObject({ status: 403, code: 'HTTP_ERR_HOST' });
    }
    expect(checkRequest({}, loopback)).toMatchObject({ code: 'HTTP_ERR_HOST' });
  });

  it('holds for every loopback spelling of the bind address, not only 127.0.0.1', () => {
    for (const bindHost of ['::ffff:127.0.0.1', '::1', 'localhost', '127.0.0.2']) {
      expect(checkRequest({ host: 'evil.example' }, { bindHost, allowOrigins: [] }), bindHost).toMatchObject({ code: 'HTTP_ERR_HOST' });
    }
  });

  it('leaves Host names alone off loopback (such a bind needs a token, which guards it)', () => {
    expect(checkRequest({ host: 'moshi.example.com' }, { bindHost: '0.0.0.0', allowOrigins: [] })).toBeNull();
  });
});

describe('browser Origins', () => {
  it('accepts no Origin (programs) and loopback Origins on any port and scheme', () => {
    expect(checkRequest({ host: 'localhost' }, loopback)).toBeNull();
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:5178', 'https://[::1]:3000', 'http://localhost']) {
      expect(checkRequest({ host: 'localhost', origin }, loopback), origin).toBeNull();
    }
  });

  it('refuses other Origins, "null" and non-http schemes, and says how to allow one', () => {
    for (const origin of ['http://evil.example', 'https://localhost.evil.example', 'null', 'file://', 'chrome-extension://abc', 'http://127.0.0.1.nip.io']) {
      const r = checkRequest({ host: 'localhost', origin }, loopback);
      expect(r, origin).toMatchObject({ status: 403, code: 'HTTP_ERR_ORIGIN' });
    }
    expect(checkRequest({ host: 'localhost', origin: 'https://moshi.example.com' }, loopback)?.message).toContain('--allow-origin https://moshi.example.com');
  });

  it('accepts an allowed Origin exactly (scheme, host and port), on loopback and off it', () => {
    const allowOrigins = parseAllowOrigins(['https://Moshi.Example.com', 'http://10.0.0.5:8080']);
    expect(allowOrigins).toEqual(['https://moshi.example.com', 'http://10.0.0.5:8080']);
    for (const bindHost of ['127.0.0.1', '0.0.0.0']) {
      const rules = { bindHost, allowOrigins };
      expect(checkRequest({ host: 'localhost', origin: 'https://moshi.example.com' }, rules)).toBeNull();
      expect(checkRequest({ host: 'localhost', origin: 'http://10.0.0.5:8080' }, rules)).toBeNull();
      expect(checkRequest({ host: 'localhost', origin: 'http://moshi.example.com' }, rules)).toMatchObject({ code: 'HTTP_ERR_ORIGIN' });
      expect(checkRequest({ host: 'localhost', origin: 'http://10.0.0.5:8081' }, rules)).toMatchObject({ code: 'HTTP_ERR_ORIGIN' });
    }
  });

  it('rejects --allow-origin values that are not origins', () => {
    for (const bad of ['moshi.example.com', 'https://x.example/path', 'ftp://x.example', '*', 'https://user@x.example']) {
      expect(() => parseAllowOrigins([bad]), bad).toThrow(/--allow-origin/);
    }
  });
});

describe('helpers', () => {
  it('parses Host headers and origins', () => {
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('Example.COM:8')).toBe('example.com');
    expect(hostName('x y')).toBeNull();
    expect(normaliseOrigin('HTTPS://A.example:443')).toBe('https://a.example');
    expect(normaliseOrigin('null')).toBeNull();
    expect(isLoopbackHost('127.255.0.1')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });
});
