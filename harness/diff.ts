// `sessions diff A B`: two recordings compared step by step with the replay verdicts, plus
// what differs in how they were made (model, weights, version, platform fingerprint).
import { Comparator, viewOf, type Comparison } from './compare.ts';
import { openSession, type ReadStep, type SessionDamage, type SessionManifest } from './format/node.ts';
import { fingerprintDiffs } from './replayer.ts';
import { assertUndamaged, verifySession } from './verify.ts';
import { wireOf } from './view/packets.ts';

export interface SessionDiff {
  readonly comparison: Comparison;
  /** Seed, sampling, model and weights differences: any of them makes a divergence expected. */
  readonly setupDiffs: readonly string[];
  readonly fingerprintDiffs: readonly string[];
  /** Damage found in each side (empty unless `salvage`: otherwise damage throws SESSION_ERR_DAMAGED). */
  readonly damage: { readonly a: readonly SessionDamage[]; readonly b: readonly SessionDamage[] };
  /** Steps compared (the shorter session's whole steps); lengths of both. */
  readonly steps: { readonly a: number; readonly b: number };
}

/** What differs in how two sessions were made (exported for its test). */
export function setupDiffs(a: SessionManifest, b: SessionManifest): string[] {
  const out: string[] = [];
  const j = (v: unknown) => JSON.stringify(v);
  // Another wire protocol means other input bytes (Opus vs PCM packets): a divergence is expected.
  if (wireOf(a) !== wireOf(b)) out.push(`wire protocol: ${wireOf(a)} vs ${wireOf(b)}`);
  if (a.seed !== b.seed) out.push(`seed: ${a.seed} vs ${b.seed}`);
  if (a.audioSeed !== b.audioSeed) out.push(`audio seed: ${a.audioSeed ?? '(seed)'} vs ${b.audioSeed ?? '(seed)'}`);
  if (j(a.sampling) !== j(b.sampling)) out.push(`sampling: ${j(a.sampling)} vs ${j(b.sampling)}`);
  if (a.model.id !== b.model.id) out.push(`model: ${a.model.id} vs ${b.model.id}`);
  for (const n of new Set([...Object.keys(a.model.weights), ...Object.keys(b.model.weights)])) {
    if (a.model.weights[n] !== b.model.weights[n]) out.push(`weights ${n}: ${a.model.weights[n] ?? '(none)'} vs ${b.model.weights[n] ?? '(none)'}`);
  }
  if (a.software.version !== b.software.version) out.push(`package version: ${a.software.version} vs ${b.software.version}`);
  return out;
}

/** `salvage`: compare damaged sessions anyway (their damage is in the result) instead of throwing SESSION_ERR_DAMAGED. */
export async function diffSessions(pathA: string, pathB: string, context = 3, options: { readonly salvage?: boolean } = {}): Promise<SessionDiff> {
  const salvage = options.salvage === true;
  const [a, b] = await Promise.all([openSession(pathA, { salvage }), openSession(pathB, { salvage })]);
  // Both sides verified as a replay verifies its recording: damage is never reported as a divergence.
  const [va, vb] = await Promise.all([verifySession(a), verifySession(b)]);
  if (!salvage) {
    assertUndamaged(`A (${pathA})`, va);
    assertUndamaged(`B (${pathB})`, vb);
  }
  const [ra, rb] = await Promise.all([a.scan(), b.scan()]);
  const n = Math.min(ra.wholeSteps, rb.wholeSteps);
  const cmp = new Comparator(context);
  const ia = a.steps()[Symbol.asyncIterator]();
  const ib = b.steps()[Symbol.asyncIterator]();
  for (let i = 0; i < n && !cmp.done; i++) {
    const [x, y] = await Promise.all([ia.next(), ib.next()]);
    if (x.done || y.done) break;
    cmp.add(viewOf(x.value as ReadStep), viewOf(y.value as ReadStep));
  }
  await Promise.all([ia.return?.(undefined), ib.return?.(undefined)]);
  return {
    comparison: cmp.result(),
    setupDiffs: setupDiffs(a.manifest, b.manifest),
    fingerprintDiffs: fingerprintDiffs(a.manifest.platform, b.manifest.platform),
    damage: { a: va.damage, b: vb.damage },
    steps: { a: ra.wholeSteps, b: rb.wholeSteps },
  };
}
