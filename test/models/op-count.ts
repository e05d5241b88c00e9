// Counts the graph-building calls a piece of model code makes into the MLX binding: every
// function of `mx`, `mx.fast`, `mx.random` and every array method, by name. Run on eager
// code (SOLACELIVE_MLX_COMPILE=0, or code that is not compiled) this is the graph a compiled
// trace would record; on a steady-state step of compiled code, what still runs eagerly.
// Deterministic, unlike timings, so tests can pin that a change keeps a count down.
import { mx } from '../../src/models/mlx.ts';

/** Calls that build nothing (reading results, evaluation, compilation, devices, files). */
const NOT_OPS = new Set(['eval', 'asyncEval', 'item', 'tolist', 'toString', 'compile', 'enableCompile', 'disableCompile',
  'load', 'save', 'saveSafetensors', 'saveGGUF', 'newStream', 'defaultDevice', 'setDefaultDevice', 'defaultStream',
  'setDefaultStream', 'stream', 'Slice', 'constructor']);

export type OpCounts = Map<string, number>;

export function total(c: OpCounts): number {
  let n = 0;
  for (const v of c.values()) n += v;
  return n;
}

/** Runs `fn` with every binding call counted; returns its result and the counts by name. */
export function countOps<T>(fn: () => T): { result: T; counts: OpCounts } {
  const counts: OpCounts = new Map();
  const restore: (() => void)[] = [];
  const wrap = (owner: Record<string, unknown>, prefix: string, keys: string[]) => {
    for (const k of keys) {
      const d = Object.getOwnPropertyDescriptor(owner, k);
      if (!d || typeof d.value !== 'function' || NOT_OPS.has(k) || (prefix === 'mx.' && k === 'array')) continue;
      const f = d.value as (...a: unknown[]) => unknown;
      owner[k] = function (this: unknown, ...args: unknown[]) {
        counts.set(prefix + k, (counts.get(prefix + k) ?? 0) + 1);
        return f.apply(this, args);
      };
      restore.push(() => { owner[k] = f; });
    }
  };
  const core = mx as unknown as Record<string, unknown>;
  wrap(core, 'mx.', Object.keys(core));
  wrap(mx.fast as unknown as Record<string, unknown>, 'fast.', Object.keys(mx.fast));
  wrap(mx.random as unknown as Record<string, unknown>, 'random.', Object.keys(mx.random));
  const proto = Object.getPrototypeOf(mx.array(0)) as Record<string, unknown>;
  wrap(proto, 'array.', Object.getOwnPropertyNames(proto));
  try {
    return { result: fn(), counts };
  } finally {
    for (const r of restore.reverse()) r();
  }
}
