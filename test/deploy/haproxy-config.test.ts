// The shipped deploy/haproxy.cfg is what the scale-out test and bench run: rendering it for
// other addresses changes only the addresses, the result is a config HAProxy itself accepts,
// and a cfg that lost a line the rendering relies on is said by name, not run half-substituted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAPROXY_CFG, haproxyBinary, renderHaproxyConfig } from '../../deploy/haproxy.ts';

const shipped = readFileSync(HAPROXY_CFG, 'utf8');
const layout = { bind: '127.0.0.1:41001', servers: { a: '127.0.0.1:41002', b: '127.0.0.1:41003', c: '10.0.0.9:8788' }, stats: '127.0.0.1:41004' };

describe('renderHaproxyConfig', () => {
  it('puts the given addresses in place of the shipped ones and changes nothing else', () => {
    const out = renderHaproxyConfig(shipped, layout);
    expect(out.match(/^\s*bind \S+/gm)).toEqual(['    bind 127.0.0.1:41001', '    bind 127.0.0.1:41004']);
    expect(out.match(/^\s*server .*/gm)).toEqual(['    server a 127.0.0.1:41002', '    server b 127.0.0.1:41003', '    server c 10.0.0.9:8788']);
    const rest = (t: string) => t.split('\n').filter((l) => !/^\s*(bind|server) /.test(l));
    expect(rest(out)).toEqual(rest(shipped));
  });

  it('gives a config HAProxy accepts (haproxy -c)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'haproxy-cfg-'));
    try {
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(file, renderHaproxyConfig(shipped, layout));
      expect(execFileSync(haproxyBinary(), ['-c', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toMatch(/valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a cfg without the frontend bind, the stats bind or any server line', () => {
    expect(() => renderHaproxyConfig(shipped.replace(/^(frontend solacelive[\s\S]*?)\n\s*bind \S+/m, '$1'), layout)).toThrow(/frontend bind/);
    expect(() => renderHaproxyConfig(shipped.replace(/^(listen stats[\s\S]*?)\n\s*bind \S+/m, '$1'), layout)).toThrow(/stats bind/);
    expect(() => renderHaproxyConfig(shipped.replace(/^\s*server .*\n/gm, ''), layout)).toThrow(/server/);
  });
});
