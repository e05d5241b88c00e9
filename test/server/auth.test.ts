import { describe, expect, it } from 'vitest';
import { isAuthorized, requestToken } from '../../src/server/auth.ts';

const req = (url: string, authorization?: string) => ({ url, headers: authorization ? { authorization } : {} });

describe('token check', () => {
  it('reads a bearer header or a token query parameter', () => {
    expect(requestToken(req('/', 'Bearer abc12345'))).toBe('abc12345');
    expect(requestToken(req('/?token=q1234567'))).toBe('q1234567');
    expect(requestToken(req('/', 'Basic Zm9vOmJhcg=='))).toBeNull();
    expect(requestToken(req('/'))).toBeNull();
  });

  it('lets everything through without a server token, and only the right token with one', () => {
    expect(isAuthorized(req('/'), null)).toBe(true);
    expect(isAuthorized(req('/', 'Bearer secret-token'), 'secret-token')).toBe(true);
    expect(isAuthorized(req('/health?token=secret-token'), 'secret-token')).toBe(true);
    expect(isAuthorized(req('/', 'Bearer secret-tokem'), 'secret-token')).toBe(false);
    expect(isAuthorized(req('/', 'Bearer secret'), 'secret-token')).toBe(false);
    expect(isAuthorized(req('/'), 'secret-token')).toBe(false);
  });
});
