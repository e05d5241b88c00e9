// The wire protocols the page speaks, by the name the selector and `?protocol=` use.
import type { OpenLink, ProtocolName } from './link.ts';
import { openMoshiLink } from './moshi-link.ts';
import { openPacketLink } from './packet-link.ts';

export const OPEN_LINK: Readonly<Record<ProtocolName, OpenLink>> = { solacelive: openPacketLink, moshi: openMoshiLink };

/** The selector's labels. */
export const PROTOCOL_LABEL: Readonly<Record<ProtocolName, string>> = {
  solacelive: 'SolaceLive packets',
  moshi: 'Moshi (/api/chat, Ogg Opus)',
};
