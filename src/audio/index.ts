// Public surface of the audio layer (a leaf: it imports nothing else from the project).
// Everything here is browser-safe except the file wrappers from wav-file.ts, which use
// node:fs; browser code imports './browser.ts' instead.
export * from './browser.ts';
export { readWav, readWavSync, writeWav, writeWavSync } from './wav-file.ts';
