// `solacelive sessions diff A B`: compare two recordings with the replay verdicts.
import { basename } from 'node:path';
import { parseCommandArgs, UsageError, type Command } from '../../src/cli/args.ts';
import { formatComparison, satisfies } from '../compare.ts';
import { diffSessions } from '../diff.ts';
import { saveReplayResult } from '../view/replays.ts';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, expect: { type: 'string' }, 'no-save': { type: 'boolean' } }, true);
  if (positionals[0] !== 'diff' || positionals.length !== 3) throw new UsageError('usage: solacelive sessions diff A B');
  const expect = values.expect ?? 'bit-exact';
  if (expect !== 'bit-exact' && expect !== 'token-exact') throw new UsageError('--expect must be bit-exact or token-exact');
  const d = await diffSessions(positionals[1]!, positionals[2]!);
  const ok = satisfies(d.comparison.kind, expect);
  if (!values['no-save']) await save(positionals[1]!, positionals[2]!, { kind: 'diff', at: new Date().toISOString(), verdict: d.comparison.verdict, expected: expect, ok, fingerprintDiffs: d.fingerprintDiffs, comparison: d.comparison, labels: [label(positionals[1]!), label(positionals[2]!)], stepsReplayed: Math.min(d.steps.a, d.steps.b), setupDiffs: d.setupDiffs });
  if (values.json) {
    console.log(JSON.stringify({ ...d, expect, ok }, null, 2));
  } else {
    console.log(formatComparison(d.comparison, ['A', 'B']).join('\n'));
    console.log(`steps    A ${d.steps.a}, B ${d.steps.b}${d.steps.a !== d.steps.b ? ` (compared the first ${Math.min(d.steps.a, d.steps.b)})` : ''}`);
    if (d.setupDiffs.length) console.log(`setup differs (divergence expected):\n  ${d.setupDiffs.join('\n  ')}`);
    if (d.fingerprintDiffs.length) console.log(`platform differs (token-exact at best):\n  ${d.fingerprintDiffs.join('\n  ')}`);
  }
  return ok ? 0 : 1;
}

const label = (path: string) => basename(path.replace(/\/+$/, ''));

// The result goes into A's replays/ (A is the reference, as a recording is for a replay; the
// state folder for an A inside the package), so the viewer shows it on A's page with both
// sides; a .zip or read-only A is still compared.
async function save(a: string, b: string, result: Parameters<typeof saveReplayResult>[1]): Promise<void> {
  try {
    const path = await saveReplayResult(a, result);
    if (path !== null) console.error(`solacelive sessions: result (vs ${b}) saved to ${path}`);
  } catch (err) {
    console.error(`solacelive sessions: result not saved (${(err as Error).message})`);
  }
}

export const command: Command = {
  summary: 'compare recorded sessions: `sessions diff A B` gives bit-exact / token-exact / diverged at step N',
  help: [
    'usage: solacelive sessions diff A B [--expect bit-exact|token-exact] [--json] [--no-save]',
    '',
    'Compares the steps of two sessions (input codes, text token, audio codes, PCM hash) and',
    'names what differs in how they were recorded (seed, sampling, weights, platform).',
    'Both sessions are verified first, as replay does (checksums, files against each other):',
    'damage is an error naming the side, file and place (SESSION_ERR_DAMAGED), not a verdict.',
    'The result is saved in A/replays/ for the viewer (solacelive view shows it on A\'s page;',
    'for an A inside the package, e.g. a committed fixture, in ~/.local/state/solacelive/',
    'replays/ instead, so the checkout stays clean); --no-save skips that.',
    'Exit 0 when the verdict is --expect (default bit-exact) or better, else 1.',
  ].join('\n'),
  run,
};
