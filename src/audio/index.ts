// Public surface of the audio layer (a leaf: it imports nothing else from the project).
// Everything here is browser-safe except the file wrappers from wav-file.ts, which use
// node:fs; browser code imports './browser.ts' instead.
export * from './browser.ts';
export { readWav, readWavSync, writeWav, writeWavSync } from './wav-file.ts';
// Ogg and Opus (browser code imports './ogg/index.ts' and './opus/index.ts' directly and
// fetches the .wasm; Node loads it from node_modules with loadLibopusNode).
export * from './ogg/index.ts';
export * from './opus/index.ts';
export { libopusBuild, libopusWasmPath, loadLibopusNode } from './opus/node.ts';
