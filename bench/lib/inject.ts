// TEST-ONLY: the injected sleep of InjectSleep, applied in the bench child by wrapping the
// model method that the named span times. The wrapper sleeps, then calls the original;
// production code is untouched and never reads any switch for it.
import { Lm } from '../../src/models/lm/index.ts';
import { Mimi } from '../../src/models/mimi/index.ts';
import { sleepSync, type InjectSleep } from './suite-api.ts';

export function applyInjectedSleep(inject: InjectSleep): void {
  if (!(Number.isFinite(inject.ms) && inject.ms > 0)) throw new RangeError(`inject: ms must be a positive number (got ${inject.ms})`);
  const wrap = <T extends object>(proto: T, method: keyof T & string, when: (args: unknown[]) => boolean = () => true) => {
    const original = proto[method] as (...args: unknown[]) => unknown;
    (proto as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
      if (when(args)) sleepSync(inject.ms);
      return original.apply(this, args);
    };
  };
  switch (inject.span) {
    case 'mimi.encode': return wrap(Mimi.prototype, 'encodeStep');
    case 'mimi.decode': return wrap(Mimi.prototype, 'decodeStep');
    case 'lm.temporal': return wrap(Lm.prototype, 'temporalStep');
    // Once per step: the depformer runs one call per audio codebook, k = 0 first.
    case 'lm.depformer': return wrap(Lm.prototype, 'depformerStep', (args) => args[0] === 0);
    default: throw new RangeError(`inject: unknown span ${String((inject as { span: unknown }).span)}`);
  }
}
