// The capacity search's order and bounds, on levels whose outcome the test decides: it
// doubles until a level fails, bisects between the last pass and the first fail, stops at
// --max-clients (a lower bound, said), at the time limit, and after an interrupted level
// (which counts neither as a pass nor as a fail).
import { describe, expect, it } from 'vitest';
import { findCapacity, type LevelResult } from '../../../harness/loadtest/index.ts';

const level = (clients: number, pass: boolean) => ({ clients, pass, why: pass ? [] : ['over budget'] }) as unknown as LevelResult;

async function search(passUpTo: number, o: { maxClients: number; timeLimitS?: number; levelS?: number; abortAt?: number }) {
  const tried: number[] = [];
  const abort = new AbortController();
  const c = await findCapacity(async (n) => {
    tried.push(n);
    if (n === o.abortAt) abort.abort();
    return level(n, n <= passUpTo);
  }, { maxClients: o.maxClients, timeLimitS: o.timeLimitS ?? 600, levelS: o.levelS ?? 1, pauseMs: 0, signal: abort.signal });
  return { c, tried };
}

describe('capacity search', () => {
  it('doubles until a level fails, then bisects to the largest passing N', async () => {
    const { c, tried } = await search(5, { maxClients: 16 });
    expect(tried).toEqual([1, 2, 4, 8, 6, 5]);
    expect(c).toMatchObject({ capacity: 5, firstFail: 6, bound: null });
    expect(c.levels.map((l) => l.clients)).toEqual(tried);
  });

  it('no level passes: capacity 0 after one level', async () => {
    const { c, tried } = await search(0, { maxClients: 16 });
    expect(tried).toEqual([1]);
    expect(c).toMatchObject({ capacity: 0, firstFail: 1, bound: null });
  });

  it('every level up to --max-clients passes: that is a lower bound, and it says so', async () => {
    const { c, tried } = await search(100, { maxClients: 6 });
    expect(tried).toEqual([1, 2, 4, 6]);
    expect(c).toMatchObject({ capacity: 6, firstFail: null, bound: 'max-clients' });
  });

  it('no level starts that could not finish within the time limit', async () => {
    const { c, tried } = await search(100, { maxClients: 16, timeLimitS: 10, levelS: 20 });
    expect(tried).toEqual([]);
    expect(c).toMatchObject({ capacity: 0, firstFail: null, bound: 'time-limit' });
  });

  it('an interrupted level counts neither way and ends the search', async () => {
    const { c, tried } = await search(5, { maxClients: 16, abortAt: 4 });
    expect(tried).toEqual([1, 2, 4]);
    expect(c).toMatchObject({ capacity: 2, firstFail: null, bound: 'interrupted' });
  });
});
