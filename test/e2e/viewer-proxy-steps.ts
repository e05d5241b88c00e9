// TEST-ONLY preload for an engine worker (EngineHost's testPreload), imported as
// `viewer-proxy-steps.ts?ms=N&stallAt=K&stallMs=M`: every model step sleeps N ms first (the
// bench runner's injected sleep, bench/lib/inject.ts) and each session's step K sleeps M ms
// more. With N above the 80 ms frame the server falls behind a real-time client on any
// machine (the lag grows by at least N − 80 ms a frame), and step K is one stall of at least
// M ms. Never imported by the test process itself.
import { applyInjectedSleep } from '../../bench/lib/inject.ts';
import { sleepSync } from '../../bench/lib/suite-api.ts';
import { Lm } from '../../src/models/lm/index.ts';

const q = new URL(import.meta.url).searchParams;
applyInjectedSleep({ span: 'lm.temporal', ms: Number(q.get('ms')) });
const stallAt = Number(q.get('stallAt'));
const stallMs = Number(q.get('stallMs'));
const temporal = Lm.prototype.temporalStep;
// The step's offset in its session (its second argument) picks the stalled one.
Lm.prototype.temporalStep = function (this: Lm, ...args: Parameters<Lm['temporalStep']>) {
  if (args[1] === stallAt) sleepSync(stallMs);
  return temporal.apply(this, args);
};
