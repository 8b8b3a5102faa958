import type { Hono } from 'hono';
import type { Baton } from '../baton.ts';
import type { AccessGate } from './access-gate.ts';
import type { ApprovalInbox } from './approval-inbox.ts';
import type { Caller } from './authenticate.ts';
import type { RunFeed } from './run-feed.ts';
import type { RunWaitsView } from './run-waits-view.ts';
import type { SseChannel } from './sse.ts';
import type { StreamTokens } from './stream-tokens.ts';

/** The Hono environment of the API: every /api route after the door has its caller. */
export interface ServerEnv {
  Variables: { caller: Caller };
}

export type ServerApp = Hono<ServerEnv>;

/** What the route files share. */
export interface ServerParts {
  baton: Baton;
  gate: AccessGate;
  feed: RunFeed;
  inbox: ApprovalInbox;
  /** What listed waiting runs wait on. */
  waits: RunWaitsView;
  maxBodyBytes: number;
  pollMs: number;
  heartbeatMs: number;
  maxStreams: number;
  /** Issues and checks the stream tokens of EventSource clients. */
  streamTokens: StreamTokens;
  /** A live stream whose client has not taken a frame for this long is closed. */
  stallMs: number;
  /** Open event streams; closed by the server's close(). */
  streams: Set<SseChannel>;
  log: (message: string, error?: unknown) => void;
}
