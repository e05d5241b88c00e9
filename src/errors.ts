// The one base of the package's typed errors: a stable `code` that callers branch on
// (never the message), a message for people, and the cause kept. No imports: the viewer
// bundles it (through src/protocol and harness/format), so it must stay browser-safe.

/**
 * An error with a stable code. Each subclass names itself with a string literal,
 * `override readonly name = 'OggError'`, declared after its own fields (so own properties,
 * and JSON.stringify(err), keep the order code, details…, name). Never derived from the
 * constructor: the viewer is minified, where a class's own name comes out as `t`.
 */
export abstract class CodedError<C extends string = string> extends Error {
  abstract override readonly name: string;
  readonly code: C;

  constructor(code: C, message: string, options?: { readonly cause?: unknown }) {
    // No `cause` property at all unless there is one, as a plain Error does.
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Whether `err` is a `cls` and, when `code` is given, carries that code. */
export function isCodedError<E extends CodedError>(err: unknown, cls: abstract new (...args: never[]) => E, code?: E['code']): err is E {
  return err instanceof cls && (code === undefined || err.code === code);
}
