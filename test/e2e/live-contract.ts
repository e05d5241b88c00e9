// Compile-time contract (checked by `npm run typecheck`): the live page keeps its own copy
// of the session messages it reads (viewer/live/messages.ts; browser code may not import
// src/server), so here the server's types must still be assignable to the page's. A field
// the server renames or retypes fails the typecheck instead of failing in the browser.
import type * as Server from '../../src/server/messages.ts';
import type * as Page from '../../viewer/live/messages.ts';

type Fits<A extends B, B> = A;

export type Contract = [
  Fits<Server.ReadyMessage, Page.ReadyMessage>,
  Fits<Server.ErrorMessage, Page.ErrorMessage>,
  Fits<Server.GapMessage, Page.GapMessage>,
  Fits<Server.EventsMessage, Page.EventsMessage>,
  Fits<Server.EndedMessage, Page.EndedMessage>,
  Fits<Server.RecordingMessage, Page.RecordingMessage>,
  Fits<Server.TextPartial, Page.TextPartial>,
  Fits<Server.TextFinal, Page.TextFinal>,
  // The other way for what the page sends: the server must accept the page's start.
  Fits<Page.StartMessage, Server.StartMessage>,
  Fits<Page.EndMessage, Server.EndMessage>,
  Fits<Page.SamplingParams, Server.ReadyMessage['sampling']>,
];

export const SESSION_PROTOCOLS_MATCH: typeof Server.SESSION_PROTOCOL extends typeof Page.SESSION_PROTOCOL ? true : false = true;
