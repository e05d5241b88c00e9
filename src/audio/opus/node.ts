// Node-only: reads the opusscript .wasm from node_modules (the browser fetches it instead).
// The build is compiled and hashed once per process; each call returns a fresh instance.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { OpusError } from './errors.ts';
import { compileLibopus, OPUSSCRIPT_WASM_SPECIFIER, type Libopus, type LibopusBuild } from './libopus.ts';

let build: Promise<LibopusBuild> | null = null;

/** Absolute path of the .wasm inside the installed opusscript package. */
export function libopusWasmPath(): string {
  return createRequire(import.meta.url).resolve(OPUSSCRIPT_WASM_SPECIFIER);
}

export function libopusBuild(): Promise<LibopusBuild> {
  build ??= (async () => {
    const path = libopusWasmPath();
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new OpusError('OPUS_ERR_LIBRARY', `could not read the libopus WebAssembly at ${path}: ${(err as Error).message}`, { cause: err });
    }
    return compileLibopus(bytes);
  })();
  build.catch(() => { build = null; }); // a failed read may succeed later (file restored)
  return build;
}

/** A fresh libopus instance (its own WebAssembly memory). */
export async function loadLibopusNode(): Promise<Libopus> {
  return (await libopusBuild()).instantiate();
}
