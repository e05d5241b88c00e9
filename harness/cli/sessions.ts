// `solacelive sessions diff A B`: compare two recordings with the replay verdicts.
import { parseCommandArgs, UsageError, type Command } from '../../src/cli/args.ts';
import { formatComparison, satisfies } from '../compare.ts';
import { diffSessions } from '../diff.ts';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, expect: { type: 'string' } }, true);
  if (positionals[0] !== 'diff' || positionals.length !== 3) throw new UsageError('usage: solacelive sessions diff A B');
  const expect = values.expect ?? 'bit-exact';
  if (expect !== 'bit-exact' && expect !== 'token-exact') throw new UsageError('--expect must be bit-exact or token-exact');
  const d = await diffSessions(positionals[1]!, positionals[2]!);
  const ok = satisfies(d.comparison.kind, expect);
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

export const command: Command = {
  summary: 'compare recorded sessions: `sessions diff A B` gives bit-exact / token-exact / diverged at step N',
  help: [
    'usage: solacelive sessions diff A B [--expect bit-exact|token-exact] [--json]',
    '',
    'Compares the steps of two sessions (input codes, text token, audio codes, PCM hash) and',
    'names what differs in how they were recorded (seed, sampling, weights, platform).',
    'Exit 0 when the verdict is --expect (default bit-exact) or better, else 1.',
  ].join('\n'),
  run,
};
