// Public entry point. Browser-safe parts first; model code is reached through
// `solacelive/models` entry points so that importing the protocol never loads MLX.
export * from './protocol/index.ts';
