// The Moshi LM: public surface. Values and types apart.
export { LmConfigError, gatedHidden, initialToken, lmConfigFromJson, loadLmConfig, maxDelay, UNGENERATED_TOKEN, ZERO_TOKEN } from './config.ts';
export { Lm, LmNotLoadedError } from './lm.ts';
export { LmGen, LmGenError, releaseNativeMemory } from './generate.ts';
export { DEFAULT_AUDIO_SAMPLING, DEFAULT_TEXT_SAMPLING, GREEDY, Sampler, drawKey, keySeed, sampleToken } from './sampling.ts';
export { buildLmWeights, checkLmWeights, detectLayout, expectedShapes, loadLm, sanitize } from './weights.ts';
export { HIDDEN_TEXT_IDS, TextDetokenizer, TokenizerError, parseSentencePieceModel } from './tokenizer.ts';
export { HubError, cachedFile, modelFileFor, pullFile, pullRepo, quantOfRepo, repoCacheDir, repoPlan, selectRepoFiles } from './hub.ts';

export type { LmConfig, NormKind, PositionalEmbedding, Gating, TransformerConfig } from './config.ts';
export type { LmForwardOutput, LmWeights } from './lm.ts';
export type { LmFrame, LmGenOptions, LmStepTimings, LmStepTrace } from './generate.ts';
export type { SamplingParams } from './sampling.ts';
export type { BuildOptions, LmLayout, LoadedLm } from './weights.ts';
export type { Piece } from './tokenizer.ts';
export type { HubErrorCode, HubOptions, PulledFile, Quant } from './hub.ts';
