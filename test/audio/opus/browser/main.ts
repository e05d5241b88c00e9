// Test page: the browser-safe Ogg Opus modules bundled by Vite, with the .wasm located the way
// a page does it (a `?url` import of the file inside the opusscript package).
import wasmUrl from 'opusscript/build/opusscript_native_wasm.wasm?url';
import { decodeWav } from '../../../../src/audio/browser.ts';
import { fetchLibopus, MOSHI_CLIENT_SHAPE, OggOpusDecoder, OggOpusEncoder } from '../../../../src/audio/opus/index.ts';

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Encodes the WAV at `wavUrl` with the client shape, decodes the pages back; hashes both. */
async function run(wavUrl: string): Promise<{ identity: unknown; oggSha256: string; pcmSha256: string; samples: number }> {
  const lib = await fetchLibopus(wasmUrl);
  const wav = decodeWav(new Uint8Array(await (await fetch(wavUrl)).arrayBuffer()));
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 0x5eed });
  const pages = [...enc.push(wav.channels[0]!), ...enc.end()];
  const ogg = new Uint8Array(pages.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pages) {
    ogg.set(p, at);
    at += p.length;
  }
  const dec = new OggOpusDecoder({ lib });
  for (let i = 0; i < ogg.length; i += 1000) dec.push(ogg.subarray(i, i + 1000));
  dec.end();
  const pcm = dec.read();
  return { identity: lib.identity, oggSha256: await sha256(ogg), pcmSha256: await sha256(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)), samples: pcm.length };
}

(globalThis as { runOggOpus?: typeof run }).runOggOpus = run;
