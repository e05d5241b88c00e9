// Why a WebSocket failed before it opened. Browsers report 1006 for every cause (nothing
// listening, HTTP 401/403/404, TLS), so an HTTP request to the same origin tells "nothing
// listens" from "something answers but refused the WebSocket": a token or Origin refusal,
// or no such endpoint (a plain web server, the viewer's own port).
import { LiveError } from './errors.ts';

const PROBE_MS = 3000;

/** `speaks`: the protocol the page wanted, for the message (e.g. 'SolaceLive packet', 'Moshi'). */
export async function whyNoWebSocket(url: string, speaks: string): Promise<LiveError> {
  const u = new URL(url);
  const http = `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}/`;
  const answered = await fetch(http, { mode: 'no-cors', cache: 'no-store', signal: AbortSignal.timeout(PROBE_MS) }).then(() => true, () => false);
  if (answered) {
    return new LiveError(
      `Not a ${speaks} server`,
      `${u.host} answers HTTP but refused a ${speaks} WebSocket at ${u.pathname} (${url}). A server started with --token needs ?token=… in the URL; otherwise this is not \`solacelive serve\` (it prints ws://host:port/; default ws://127.0.0.1:8788/), e.g. it is the page's own port.`,
    );
  }
  return new LiveError('Server unreachable', `Could not connect to ${url}. Is \`solacelive serve\` running there? (A server started with --token needs ?token=… in the URL.)`);
}
