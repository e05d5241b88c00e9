import { describe, expect, it } from 'vitest';
import { closeReason } from '../../src/server/close-codes.ts';

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe('closeReason', () => {
  it('keeps short reasons and cuts long ones to the 123-byte limit of a close frame', () => {
    expect(closeReason('session ended')).toBe('session ended');
    const long = closeReason('x'.repeat(500));
    expect(bytes(long)).toBeLessThanOrEqual(123);
    expect(long.endsWith('…')).toBe(true);
  });

  it('never splits a character', () => {
    const r = closeReason('🎤'.repeat(100));
    expect(bytes(r)).toBeLessThanOrEqual(123);
    expect(r.isWellFormed()).toBe(true);
  });
});
