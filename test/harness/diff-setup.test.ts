// `sessions diff` names every difference in how two sessions were made that makes a
// divergence expected: a session recorded over the Moshi protocol against one over
// SolaceLive packets must say so, not just "diverged".
import { describe, expect, it } from 'vitest';
import { setupDiffs } from '../../harness/diff.ts';
import { openSession, type SessionManifest } from '../../harness/format/node.ts';

const fixture = new URL('../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;

describe('sessions diff setup differences', () => {
  it('lists nothing for a session against itself', async () => {
    const m = (await openSession(fixture)).manifest;
    expect(setupDiffs(m, m)).toEqual([]);
  });

  it('lists a wire protocol difference, naming both protocols', async () => {
    const m = (await openSession(fixture)).manifest;
    const moshi: SessionManifest = { ...m, meta: { ...m.meta, wire: 'moshi' } };
    const diffs = setupDiffs(m, moshi);
    expect(diffs).toEqual([`wire protocol: ${m.meta.wire === 'moshi' ? 'moshi' : 'solacelive'} vs moshi`]);
    expect(diffs[0]).toContain('solacelive');
  });

  it('lists an audio seed difference', async () => {
    const m = (await openSession(fixture)).manifest;
    const seeded: SessionManifest = { ...m, audioSeed: m.seed + 1 };
    expect(setupDiffs(m, seeded)).toEqual([`audio seed: ${m.audioSeed ?? '(seed)'} vs ${m.seed + 1}`]);
  });
});
