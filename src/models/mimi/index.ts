// Mimi's public surface: the codec, its config, its errors, and the checkpoint key list
// (for tools that write or inspect Mimi checkpoints).
export { Mimi, type MimiOptions, type StepOptions, type Tap } from './mimi.ts';
export { loadMimiConfig, mimiConfigFromJson, type MimiConfig } from './config.ts';
export { MimiError, type MimiErrorCode } from './errors.ts';
export { expectedCheckpointKeys } from './weights.ts';
