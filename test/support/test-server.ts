import type { ToolCallInterceptor } from '../../src/agents/interceptors.ts';
import type { PolicyEngine } from '../../src/access/policy-engine.ts';
import type { BatonOptions } from '../../src/baton.ts';
import { serve, type RunningServer } from '../../src/server/node.ts';
import {
  createServer,
  type AssetSource,
  type BatonServer,
  type CorsOptions,
} from '../../src/server/server.ts';
import { harness, SystemClock, type Harness } from './harness.ts';
import { waiter } from './sample-workflows.ts';

/** API tokens of the test server: two people in tenant acme, one in tenant globex. */
export const TOKENS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef01',
  mallory: 'mallory-token-0123456789abcd',
} as const;

export const AUTH = {
  tokens: {
    [TOKENS.alice]: { principal: 'user:alice', tenant: 'acme' },
    [TOKENS.bob]: { principal: 'user:bob', tenant: 'acme' },
    [TOKENS.mallory]: { principal: 'user:mallory', tenant: 'globex' },
  },
  jwt: { secret: 'a-shared-secret-of-at-least-32-characters!' },
};

/**
 * A plain interceptor that parks irreversible calls (not the guard): the inbox shows and decides
 * such parks too, by their signal.
 */
export const parkIrreversible: ToolCallInterceptor = {
  name: 'approvals',
  before: (call) =>
    call.tool.effect === 'irreversible'
      ? { type: 'park', reason: `Refunds need a person: ${JSON.stringify(call.args)}` }
      : undefined,
};

/** The HTTP server over a harness, on 127.0.0.1 at a free port. */
export interface TestServer {
  /** The harness the server stands on: its Baton, store and clock. */
  harness: Harness;
  baton: Harness['baton'];
  api: BatonServer;
  running: RunningServer;
  url: string;
  /** fetch against the server, with `as`'s token unless told otherwise. */
  call(
    path: string,
    init?: RequestInit & { as?: keyof typeof TOKENS | null; json?: unknown },
  ): Promise<Response>;
  /** Closes the server, then the harness under it. */
  close(): Promise<void>;
}

/** What the server of {@link serveHarness} is opened with. */
export interface TestServerOptions {
  policies?: PolicyEngine;
  assets?: AssetSource;
  maxBodyBytes?: number;
  cors?: CorsOptions;
  /** Live streams whose client takes no frame for this long are closed. */
  stallMs?: number;
}

/**
 * A harness on a fresh SQLite file (the machine's clock: a browser reads these runs too) with the
 * guard's approval gate on irreversible tool calls, and the HTTP server over it.
 */
export async function startTestServer(
  options: TestServerOptions & {
    workflows?: BatonOptions['workflows'];
    maxQueuedRuns?: number;
    worker?: false;
    /** Cedar policies of the Baton itself (tool calls, handoffs, children), as `Baton.open({ policies })`. */
    runPolicies?: PolicyEngine;
    /** Who gates irreversible tool calls: the guard's approval gate (default) or a plain interceptor. */
    gate?: 'guard' | 'interceptor';
  } = {},
): Promise<TestServer> {
  const h = await harness({
    store: 'file',
    clock: new SystemClock(),
    workflows: options.workflows ?? [waiter],
    ...(options.worker === false ? { worker: false as const } : {}),
    ...(options.gate === 'interceptor'
      ? { agents: { interceptors: { tools: [parkIrreversible] } } }
      : {
          guard: {
            approvals: {
              gates: { irreversible: true },
              ...(options.policies ? { policies: options.policies } : {}),
            },
          },
        }),
    ...(options.maxQueuedRuns === undefined ? {} : { maxQueuedRuns: options.maxQueuedRuns }),
    ...(options.runPolicies ? { policies: options.runPolicies } : {}),
  });
  return serveHarness(h, options);
}

/** The HTTP server (with {@link AUTH}) over a harness; closing it closes the harness too. */
export async function serveHarness(h: Harness, options: TestServerOptions = {}): Promise<TestServer> {
  const api = await createServer(h.baton, {
    auth: AUTH,
    pollMs: 25,
    log: () => undefined,
    ...(options.policies ? { policies: options.policies } : {}),
    ...(options.assets ? { assets: options.assets } : {}),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.stallMs === undefined ? {} : { stallMs: options.stallMs }),
    ...(options.cors ? { cors: options.cors } : {}),
  });
  const running = await serve(api, { port: 0 });
  return {
    harness: h,
    baton: h.baton,
    api,
    running,
    url: running.url,
    call(path, init = {}) {
      const { as = 'alice', json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (as !== null) headers.set('authorization', `Bearer ${TOKENS[as]}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${running.url}${path}`, {
        ...rest,
        headers,
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
    },
    async close() {
      await running.close();
      await h.close();
    },
  };
}

/** One server-sent event as read by readFrames. */
export type Frame = { event: string; id?: string; data: any };

/** Reads SSE frames until `until` says so (or the stream ends), then lets go of the response. */
export async function readFrames(
  response: Response,
  until: (frames: Frame[]) => boolean = () => false,
): Promise<Frame[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const frames: Frame[] = [];
  let buffer = '';
  while (!until(frames)) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const lines = block.split('\n').filter((line) => !line.startsWith(':'));
      if (lines.length === 0) continue;
      const field = (name: string) =>
        lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
      const data = field('data');
      frames.push({
        event: field('event') ?? 'message',
        data: data === undefined || data === '[DONE]' ? data : JSON.parse(data),
        ...(field('id') ? { id: field('id')! } : {}),
      });
      if (until(frames)) break;
    }
  }
  await reader.cancel();
  return frames;
}
