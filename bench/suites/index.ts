// The unified suites, by name, in the order `--suite all` runs them.
import type { SuiteDef, SuiteName } from '../lib/suite-api.ts';
import { codecSuite } from './codec.ts';
import { dashSuite } from './dash.ts';
import { lmSuite } from './lm.ts';
import { mimiSuite } from './mimi.ts';
import { proxySuite } from './proxy.ts';
import { replaySuite } from './replay.ts';
import { serverSuite } from './server.ts';
import { stepSuite } from './step.ts';

export const SUITE_DEFS: Readonly<Record<SuiteName, SuiteDef>> = {
  codec: codecSuite,
  mimi: mimiSuite,
  lm: lmSuite,
  step: stepSuite,
  replay: replaySuite,
  proxy: proxySuite,
  dash: dashSuite,
  server: serverSuite,
};
