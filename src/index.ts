// Public entry point. Browser-safe parts first; model code is reached through
// `solacelive/models` entry points so that importing the protocol never loads MLX.
export * from './protocol/index.ts';
// The base of the package's typed errors (a stable `code`, the cause kept): branch on `code`.
export { CodedError, isCodedError } from './errors.ts';
