import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Baton } from '../baton.ts';
import type { PolicyEngine } from '../access/policy-engine.ts';
import { AccessGate } from './access-gate.ts';
import { ApprovalInbox } from './approval-inbox.ts';
import { approvalsRoutes } from './approvals-routes.ts';
import { inDoubtRoutes } from './in-doubt-routes.ts';
import { Authenticator, type AuthOptions } from './authenticate.ts';
import { compressResponses } from './compress.ts';
import { describeHttpError, HttpError } from './http-error.ts';
import { openApiDocument } from './openapi.ts';
import { RunFeed } from './run-feed.ts';
import { RunWaitsView } from './run-waits-view.ts';
import { runsRoutes } from './runs-routes.ts';
import { publishedValuesRoutes } from './published-values-routes.ts';
import type { ServerApp, ServerEnv, ServerParts } from './server-parts.ts';
import type { SseChannel } from './sse.ts';
import { streamRoutes } from './stream-routes.ts';
import { liveStreamRoutes } from './live-stream-routes.ts';
import { aiSdkUiRoutes } from './ai-sdk-ui-routes.ts';
import { StreamTokens } from './stream-tokens.ts';
import { workersRoutes } from './workers-routes.ts';
import { policiesRoutes } from './policies-routes.ts';
import { auditRoutes } from './audit-routes.ts';

/** A file of the web UI, as the server sends it. */
export interface Asset {
  body: Uint8Array;
  /** Its content type. */
  type: string;
  /** Content-addressed (hashed name): cached for a year. */
  immutable?: boolean;
}

/** Where the web UI's files come from (the Node adapter reads ui/dist). */
export interface AssetSource {
  /** The file at this URL path (`/index.html`, `/assets/app-3f2a.js`), or undefined. */
  read(path: string): Promise<Asset | undefined>;
}

export interface ServerOptions {
  /** Who may call: API tokens, JWTs, or both. Required: the API has no anonymous access. */
  auth: AuthOptions;
  /** When given, every action is also authorized by these Cedar policies (default deny). Else: tenant isolation only. */
  policies?: PolicyEngine;
  /** The largest request body, in bytes. Default: the Baton's maxPayloadBytes plus 64 KiB. */
  maxBodyBytes?: number;
  /** How often event streams look for new events. Default 250 ms. */
  pollMs?: number;
  /** Keep-alive comments on idle event streams. Default 15 s. */
  heartbeatMs?: number;
  /** Event streams open at once before new ones get 429. Default 1000. */
  maxStreams?: number;
  /** A live stream whose client takes no frame for this long is closed (a reader that never reads). Default 60 s. */
  stallMs?: number;
  /**
   * The key stream tokens are signed with (`POST /api/runs/{runId}/stream-token`). Give every server
   * behind one address the same; default: a random key per server.
   */
  streamTokenSecret?: string;
  /** How long a stream token opens its run's live stream. Default 10 min. */
  streamTokenTtlMs?: number;
  /** The web UI's files; without them only the API is served. */
  assets?: AssetSource;
  /**
   * Lets a web application on another origin call the API from a browser: the origins allowed
   * (`['https://app.example.com']`, or `'*'` for any). Callers still need a token; no cookies are
   * used. Default: none (same origin only).
   */
  cors?: CorsOptions;
  /** Where unexpected failures are reported. Default: stderr. */
  log?: (message: string, error?: unknown) => void;
}

/** Which other origins may call the API from a browser. */
export interface CorsOptions {
  /** Exact origins (`https://app.example.com`), or `'*'` for any origin. */
  origins: readonly string[] | '*';
  /** How long a browser may keep a preflight's answer. Default 600 s. */
  maxAgeSeconds?: number;
}

/** The HTTP API and web UI over one Baton. */
export interface BatonServer {
  /** The Hono app: mount it, or serve `app.fetch` on any runtime. */
  readonly app: Hono<ServerEnv>;
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Open event streams, watched runs and feed subscribers (all 0 when no client is connected). */
  stats(): { streams: number; watchedRuns: number; subscribers: number };
  /** Ends every open event stream and stops the feed. The Baton stays open. */
  close(): void;
}

const VERSION = '0.1.0';
/** The routes a stream token (`?token=`) opens: a run's live streams, nothing else. */
const STREAM_TOKEN_ROUTE = /^\/api\/runs\/([^/]+)\/(?:live|ui-stream)$/;
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Hono's CORS middleware for the API: the headers a caller sends and reads, no credentials (tokens go in a header). */
function corsFor(options: CorsOptions) {
  const allowed = options.origins === '*' ? undefined : new Set(options.origins);
  return cors({
    origin: (origin) => (allowed === undefined ? '*' : allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'last-event-id'],
    exposeHeaders: ['location', 'retry-after', 'content-encoding'],
    maxAge: options.maxAgeSeconds ?? 600,
  });
}

/**
 * Creates the HTTP API (under /api) and, with `assets`, the web UI (everything else) for a Baton.
 * Every /api route but health and the OpenAPI description needs `Authorization: Bearer <token>`;
 * runs are read in the caller's tenant only, and with `policies` every action is authorized by
 * Cedar. Errors are `{ error: { code, message } }` with a stable code (see http-error.ts).
 *
 * @example
 * const server = await createServer(baton, { auth: { tokens: { [process.env.BATON_TOKEN!]: { principal: 'user:ops', tenant: 'acme' } } } });
 * const running = await serve(server, { port: 4000 });   // baton/server's Node adapter
 */
export async function createServer(baton: Baton, options: ServerOptions): Promise<BatonServer> {
  const authenticator = await Authenticator.create(options.auth);
  const gate = new AccessGate(options.policies);
  const pollMs = options.pollMs ?? 250;
  const feed = new RunFeed(baton.store, { pollMs });
  const streams = new Set<SseChannel>();
  const log =
    options.log ??
    ((message: string, error?: unknown) => console.error(`[baton server] ${message}`, error ?? ''));
  const parts: ServerParts = {
    baton,
    gate,
    feed,
    inbox: new ApprovalInbox(baton, gate),
    waits: new RunWaitsView(baton.store),
    maxBodyBytes: options.maxBodyBytes ?? baton.maxPayloadBytes + 64 * 1024,
    pollMs,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    maxStreams: options.maxStreams ?? 1000,
    stallMs: options.stallMs ?? 60_000,
    streamTokens: new StreamTokens({
      ...(options.streamTokenSecret ? { secret: options.streamTokenSecret } : {}),
      ttlMs: options.streamTokenTtlMs ?? 10 * 60_000,
      clock: baton.clock,
    }),
    streams,
    log,
  };

  const app: ServerApp = new Hono<ServerEnv>();
  let closing = false;
  app.onError((error, c) => {
    const { status, body, retryAfterSeconds } = describeHttpError(error);
    if (status >= 500 && status !== 503) log(`${c.req.method} ${new URL(c.req.url).pathname} failed`, error);
    if (retryAfterSeconds !== undefined) c.header('retry-after', String(retryAfterSeconds));
    if (status === 401) c.header('www-authenticate', 'Bearer realm="baton"');
    // On a closing server every answer closes its connection, so no client keeps a socket to it.
    if (closing) c.header('connection', 'close');
    return c.json(body, status as 400);
  });

  app.use('*', async (c, next) => {
    if (closing) {
      // A closing server answers on connections it still holds (a browser's keep-alive socket)
      // with 503 and closes them, so the client's next try reaches whatever replaces it.
      throw new HttpError('SHUTTING_DOWN', 'This server is shutting down; try again.', {
        retryAfterMs: 1000,
      });
    }
    await next();
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
  });

  if (options.cors) app.use('/api/*', corsFor(options.cors));
  app.use('*', await compressResponses());

  app.get('/api/health', (c) => c.json({ ok: true }));
  const document = openApiDocument(VERSION);
  app.get('/api/openapi.json', (c) => c.json(document));

  // The door: everything else under /api needs a caller.
  app.use('/api/*', async (c, next) => {
    const authorization = c.req.header('authorization');
    const live = STREAM_TOKEN_ROUTE.exec(new URL(c.req.url).pathname);
    const token = c.req.query('token');
    c.set(
      'caller',
      !authorization && live && token
        ? parts.streamTokens.verify(token, decodeURIComponent(live[1]!))
        : await authenticator.authenticate(authorization),
    );
    await next();
    c.header('cache-control', c.res.headers.get('cache-control') ?? 'no-store');
  });

  app.get('/api/me', (c) => c.json({ ...c.get('caller'), policies: gate.enforcing }));
  // Streams first: /api/runs/stream must not be read as the run 'stream'.
  streamRoutes(app, parts);
  liveStreamRoutes(app, parts);
  aiSdkUiRoutes(app, parts);
  runsRoutes(app, parts);
  publishedValuesRoutes(app, parts);
  approvalsRoutes(app, parts);
  inDoubtRoutes(app, parts);
  workersRoutes(app, parts);
  policiesRoutes(app, parts);
  auditRoutes(app, parts);
  app.all('/api/*', (c) => {
    throw new HttpError(
      'NOT_FOUND',
      `No API route ${c.req.method} ${new URL(c.req.url).pathname}. See /api/openapi.json.`,
    );
  });

  app.get('*', async (c) => {
    if (!options.assets)
      throw new HttpError(
        'NOT_FOUND',
        'This server serves the API only (under /api): the web UI was not given (build it with npm run build:ui).',
      );
    const path = new URL(c.req.url).pathname;
    const asset =
      (await options.assets.read(path)) ??
      (/\.[a-z0-9]+$/i.test(path) ? undefined : await options.assets.read('/index.html'));
    if (!asset) throw new HttpError('NOT_FOUND', `No file ${path}.`);
    c.header('content-type', asset.type);
    c.header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (asset.type.startsWith('text/html')) c.header('content-security-policy', CSP);
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  });
  app.notFound((c) => {
    const { status, body } = describeHttpError(
      new HttpError('NOT_FOUND', `No route ${c.req.method} ${new URL(c.req.url).pathname}.`),
    );
    return c.json(body, status as 404);
  });

  return {
    app,
    fetch: (request) => app.fetch(request),
    stats: () => ({ streams: streams.size, watchedRuns: feed.watchedRuns, subscribers: feed.subscribers }),
    close() {
      closing = true;
      for (const channel of [...streams]) channel.close();
      feed.close();
    },
  };
}
