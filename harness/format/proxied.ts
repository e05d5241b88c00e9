// A session the proxy recorded between a Moshi client and a server it does not know: what
// its manifest says instead of a model (browser-safe, no node: imports). The fields the
// format requires are filled honestly: model.id "upstream:URL" with no config or weights,
// seed and sampling as the client asked in its query (meta.proxy.unknown lists what it did
// not ask, written as 0), platform = the proxy's machine (no MLX: mlxDevice and BLAS "none").
// Such a session cannot be replayed offline: the model that answered is not in it.
import type { ConnectionFigures } from '../measure/meter.ts';
import type { ManifestInit, ManifestPlatform, ManifestSampling, ManifestSoftware, SessionManifest } from './manifest.ts';

/** proxy.json in a proxied session: the connection's figures (harness/measure). */
export const PROXY_FILE = 'proxy.json';
export const PROXY_FORMAT = 'solacelive.proxy';
export const UPSTREAM_MODEL_PREFIX = 'upstream:';

/** proxy.json as the proxy and the load test write it, and the viewer and dashboard read it. */
export interface ProxyFile {
  readonly format: typeof PROXY_FORMAT;
  readonly version: 1;
  readonly connection: string;
  readonly upstream: string;
  readonly figures: ConnectionFigures;
}

export interface ProxyMeta {
  /** The upstream URL without query or credentials. */
  readonly upstream: string;
  /** The client's query string, forwarded as is. */
  readonly query: Readonly<Record<string, string>>;
  /** Client address and headers of interest. */
  readonly client: { readonly address: string | null; readonly userAgent: string | null; readonly origin: string | null };
  /** Manifest fields the proxy could not know (written as 0). */
  readonly unknown: readonly string[];
  /** Where the figures are: PROXY_FILE. */
  readonly figures: typeof PROXY_FILE;
}

const SAMPLING_QUERY: Readonly<Record<keyof ManifestSampling, string>> = {
  textTemperature: 'text_temperature', textTopK: 'text_topk', audioTemperature: 'audio_temperature', audioTopK: 'audio_topk',
};

/** The manifest of a proxied session from what the proxy saw of the connection. */
export function proxiedManifestInit(o: {
  readonly upstream: string;
  readonly query: Readonly<Record<string, string>>;
  readonly client: ProxyMeta['client'];
  readonly host: Omit<ManifestPlatform, 'mlxDevice' | 'blas'>;
  readonly software: ManifestSoftware;
  /** The libopus build that decoded input.wav (describeLibopus), so a verifier can re-decode packets.bin. */
  readonly opus: string;
  /** How input.wav's frames were cut (src/audio/opus/input-frames.ts), passed in: this module stays browser-safe. */
  readonly inputFraming: string;
}): ManifestInit {
  const unknown: string[] = [];
  const num = (name: string, field: string, int: boolean): number => {
    const v = o.query[name];
    const n = v === undefined ? NaN : Number(v);
    if (Number.isFinite(n) && (!int || Number.isSafeInteger(n)) && n >= 0) return n;
    unknown.push(field);
    return 0;
  };
  const seed = num('text_seed', 'seed', true);
  const audioSeed = o.query.audio_seed === undefined ? undefined : num('audio_seed', 'audioSeed', true);
  const sampling = Object.fromEntries(Object.entries(SAMPLING_QUERY).map(([k, q]) => [k, num(q, `sampling.${k}`, k.endsWith('TopK'))])) as unknown as ManifestSampling;
  const proxy: ProxyMeta = { upstream: o.upstream, query: o.query, client: o.client, unknown, figures: PROXY_FILE };
  return {
    model: { id: `${UPSTREAM_MODEL_PREFIX}${o.upstream}`, config: {}, weights: {} },
    seed,
    ...(audioSeed === undefined ? {} : { audioSeed }),
    sampling,
    platform: { ...o.host, mlxDevice: 'none', blas: { library: 'none', path: null, threads: null, coreType: null } },
    software: o.software,
    // input.wav is cut by the proxy's tap with the server's framing rule (harness/measure/opus-tap.ts).
    meta: { wire: 'moshi', wireInfo: { query: o.query, opus: o.opus, inputFraming: o.inputFraming }, proxy },
  };
}

/** The proxy part of a manifest, or null for a session SolaceLive's engine recorded. */
export function proxyMetaOf(m: Pick<SessionManifest, 'meta'>): ProxyMeta | null {
  const p = m.meta.proxy;
  return typeof p === 'object' && p !== null && typeof (p as ProxyMeta).upstream === 'string' ? (p as ProxyMeta) : null;
}
