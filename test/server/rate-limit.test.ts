import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/server/rate-limit.ts';

describe('TokenBucket', () => {
  it('allows the burst at once, then the rate', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(0)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(99)).toBe(false); // 0.99 of a token
    expect(b.take(100)).toBe(true); // 1 token after 100 ms at 10/s
    expect(b.take(100)).toBe(false);
  });

  it('never holds more than the burst, and a failed take costs nothing', () => {
    const b = new TokenBucket(100, 3, 0);
    expect(b.take(10_000, 4)).toBe(false);
    expect(b.available).toBe(3);
    expect(b.take(10_000, 3)).toBe(true);
  });

  it('sustains exactly the rate over time', () => {
    const b = new TokenBucket(12.5, 1, 0);
    let ok = 0;
    for (let t = 0; t <= 8000; t += 10) if (b.take(t)) ok++;
    expect(ok).toBe(101); // one at t=0, then one per 80 ms
  });
});
