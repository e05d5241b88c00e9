// libopus for the page: the same opusscript WebAssembly build Node uses (so the page's pages
// decode on the server exactly as Node's would), located by Vite as an asset and fetched on
// first use. One instance per page; each session makes its own encoder and decoder in it.
import wasmUrl from 'opusscript/build/opusscript_native_wasm.wasm?url';
import { fetchLibopus, type Libopus } from '../../src/audio/opus/index.ts';
import { LiveError } from './errors.ts';

let loading: Promise<Libopus> | null = null;

export function pageLibopus(): Promise<Libopus> {
  loading ??= fetchLibopus(wasmUrl).catch((err: Error) => {
    loading = null; // a later Start tries again
    throw new LiveError('Opus codec failed to load', `The Moshi protocol needs libopus (WebAssembly) and it did not load: ${err.message}`);
  });
  return loading;
}
