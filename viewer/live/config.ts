// Page settings from the query string, so a link can say which server to talk to:
//   ?server=ws://127.0.0.1:8788/  the packet server (default: `solacelive serve`'s default)
//   &record=1                     ask the server to record the session (toggle starts on)
//   &seed=N                       sampling seed (default: the server picks one and reports it)
//   &sampling=greedy|default
//   &rate=device|N                AudioContext rate (default 24000; `device` keeps the device's,
//                                 so the worklets resample)
//   &aec=0                        no echo cancellation (with headphones: the model hears the
//                                 microphone exactly as captured)
//   &protocol=solacelive|moshi    the wire protocol (default solacelive; moshi: Kyutai's
//                                 protocol at /api/chat, Ogg Opus audio)
import { LiveError } from './errors.ts';
import { PROTOCOLS, type ProtocolName } from './link.ts';

export const DEFAULT_SERVER = 'ws://127.0.0.1:8788/';

export type Sampling = 'greedy' | 'default';

export interface LiveConfig {
  readonly server: string;
  readonly protocol: ProtocolName;
  readonly record: boolean;
  readonly seed: number | null;
  readonly sampling: Sampling | null;
  /** null: the device's rate. */
  readonly rate: number | null;
  readonly echoCancellation: boolean;
}

export function parseConfig(search: string): LiveConfig {
  const q = new URLSearchParams(search);
  const seedText = q.get('seed');
  const seed = seedText === null || seedText === '' ? null : Number(seedText);
  if (seed !== null && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new LiveError('Bad link', `seed=${seedText}: expected an integer 0..4294967295.`);
  const sampling = q.get('sampling');
  if (sampling !== null && sampling !== 'greedy' && sampling !== 'default') throw new LiveError('Bad link', `sampling=${sampling}: expected greedy or default.`);
  const rateText = q.get('rate');
  const rate = rateText === 'device' ? null : rateText === null ? 24000 : Number(rateText);
  if (rate !== null && !(Number.isInteger(rate) && rate >= 8000 && rate <= 192000)) throw new LiveError('Bad link', `rate=${rateText}: expected "device" or a rate in Hz (8000..192000).`);
  const protocol = q.get('protocol') ?? 'solacelive';
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new LiveError('Bad link', `protocol=${protocol}: expected ${PROTOCOLS.join(' or ')}.`);
  return { server: checkServerUrl(q.get('server') ?? DEFAULT_SERVER), protocol: protocol as ProtocolName, record: q.get('record') === '1' || q.get('record') === 'true', seed, sampling, rate, echoCancellation: q.get('aec') !== '0' };
}

/** A ws:// or wss:// URL, or a LiveError saying what is wrong with it. */
export function checkServerUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new LiveError('Bad server URL', `"${text}" is not a URL; expected ws://host:port/ (default ${DEFAULT_SERVER}).`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new LiveError('Bad server URL', `"${text}" is ${u.protocol}; the server speaks WebSocket: ws://host:port/ (default ${DEFAULT_SERVER}).`);
  return u.href;
}
