// The wire protocols the page speaks, by the name the selector and `?protocol=` use.
import { FRAME_SAMPLES } from '../../src/audio/browser.ts';
import type { OpenLink, ProtocolName } from './link.ts';
import { MOSHI_PAGE_SAMPLES } from './moshi-audio.ts';
import { openMoshiLink } from './moshi-link.ts';
import { openPacketLink } from './packet-link.ts';

export const OPEN_LINK: Readonly<Record<ProtocolName, OpenLink>> = { solacelive: openPacketLink, moshi: openMoshiLink };

/** What the capture worklet posts at a time: a packet per frame, an Ogg page per 40 ms. */
export const CAPTURE_CHUNK: Readonly<Record<ProtocolName, number>> = { solacelive: FRAME_SAMPLES, moshi: MOSHI_PAGE_SAMPLES };

/** The selector's labels. */
export const PROTOCOL_LABEL: Readonly<Record<ProtocolName, string>> = {
  solacelive: 'SolaceLive packets',
  moshi: 'Moshi (/api/chat, Ogg Opus)',
};
