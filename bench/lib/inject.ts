// TEST-ONLY: the injected slowdowns of Inject, applied in the bench child by wrapping the
// model method that the named span times; production code is untouched and never reads any
// switch for them. A sleep (InjectSleep) adds waiting; a CPU burn (InjectCpu) adds work in
// proportion to the stage's own CPU time, as a slower change to that stage would.
import { evaluate, type MxArray } from '../../src/models/mlx.ts';
import { Lm } from '../../src/models/lm/index.ts';
import { Mimi } from '../../src/models/mimi/index.ts';
import { burnCpu, processCpuMs, sleepSync, type Inject, type InjectCpu, type InjectSleep } from './suite-api.ts';

type Method = (...args: unknown[]) => unknown;

function wrap<T extends object>(proto: T, method: keyof T & string, around: (original: Method, self: unknown, args: unknown[]) => unknown): void {
  const original = proto[method] as Method;
  (proto as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    return around(original, this, args);
  };
}

export function applyInjectedSleep(inject: InjectSleep): void {
  if (!(Number.isFinite(inject.ms) && inject.ms > 0)) throw new RangeError(`inject: ms must be a positive number (got ${inject.ms})`);
  const sleepFirst = (when: (args: unknown[]) => boolean = () => true) => (original: Method, self: unknown, args: unknown[]) => {
    if (when(args)) sleepSync(inject.ms);
    return original.apply(self, args);
  };
  switch (inject.span) {
    case 'mimi.encode': return wrap(Mimi.prototype, 'encodeStep', sleepFirst());
    case 'mimi.decode': return wrap(Mimi.prototype, 'decodeStep', sleepFirst());
    case 'lm.temporal': return wrap(Lm.prototype, 'temporalStep', sleepFirst());
    // Once per step: the depformer runs one call per audio codebook, k = 0 first.
    case 'lm.depformer': return wrap(Lm.prototype, 'depformerStep', sleepFirst((args) => args[0] === 0));
    default: throw new RangeError(`inject: unknown span ${String((inject as { span: unknown }).span)}`);
  }
}

export function applyInjectedCpu(inject: InjectCpu): void {
  if (!(Number.isFinite(inject.cpuPct) && inject.cpuPct > 0)) throw new RangeError(`inject: cpuPct must be a positive number (got ${inject.cpuPct})`);
  // MLX is lazy: the LM methods return unevaluated arrays, so the wrapper evaluates them
  // (the caller's own evaluate then finds them done) to measure the stage's real CPU time.
  const burnAfter = (force: (out: unknown) => void = () => undefined) => (original: Method, self: unknown, args: unknown[]) => {
    const c0 = processCpuMs();
    const out = original.apply(self, args);
    force(out);
    burnCpu(((processCpuMs() - c0) * inject.cpuPct) / 100);
    return out;
  };
  switch (inject.span) {
    case 'mimi.encode': return wrap(Mimi.prototype, 'encodeStep', burnAfter());
    case 'mimi.decode': return wrap(Mimi.prototype, 'decodeStep', burnAfter());
    case 'lm.temporal': return wrap(Lm.prototype, 'temporalStep', burnAfter((o) => {
      const { hidden, textLogits } = o as { hidden: MxArray; textLogits: MxArray };
      evaluate(hidden, textLogits);
    }));
    case 'lm.depformer': return wrap(Lm.prototype, 'depformerFrame', burnAfter((o) => evaluate((o as { tokens: MxArray }).tokens)));
    default: throw new RangeError(`inject: unknown span ${String((inject as { span: unknown }).span)}`);
  }
}

export function applyInject(inject: Inject): void {
  if ('cpuPct' in inject) applyInjectedCpu(inject);
  else applyInjectedSleep(inject);
}
