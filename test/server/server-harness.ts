import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import type { ToolCallInterceptor } from '../../src/agents/interceptors.ts';
import { tool } from '../../src/agents/tool.ts';
import type { PolicyEngine } from '../../src/access/policy-engine.ts';
import { Baton, type BatonOptions } from '../../src/baton.ts';
import { graph, graphWorkflow } from '../../src/patterns/graph.ts';
import { machine } from '../../src/patterns/machine.ts';
import { plan } from '../../src/planning/plan.ts';
import { serve, type RunningServer } from '../../src/server/node.ts';
import {
  createServer,
  type AssetSource,
  type BatonServer,
  type CorsOptions,
} from '../../src/server/server.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { docsLookup } from '../support/docs-tools.ts';

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

/** Waits for a signal `go` after one step, then returns the signal's payload. */
export const waiter = workflow('waiter', async (ctx, input: { name: string }) => {
  const greeting = await ctx.step('greet', () => `Hello, ${input.name}`);
  const answer = await ctx.waitFor<{ reply: string }>('go');
  return { greeting, reply: answer?.reply };
});

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

export const refunded: { chargeId: string; cents: number }[] = [];

const lookup = docsLookup((word) => `the meaning of ${word}`);

const refund = tool({
  name: 'payments.refund',
  description: 'Refunds a charge',
  input: z.object({ chargeId: z.string(), cents: z.number().int().positive() }),
  effect: 'irreversible',
  execute: async (args) => {
    refunded.push(args);
    return { refunded: args.cents, chargeId: args.chargeId };
  },
});

/**
 * An agent that looks two words up (in parallel), asks for a refund (parked for approval), and
 * answers. Each call of `supportWorkflow` makes a fresh scripted model, so each test has its own script.
 */
export function supportWorkflow(name = 'support') {
  const model = scriptedModel(
    [
      {
        toolCalls: [
          { name: 'docs.lookup', args: { word: 'refund' } },
          { name: 'docs.lookup', args: { word: 'charge' } },
        ],
        usage: { inputTokens: 120, outputTokens: 20 },
      },
      {
        toolCalls: [{ name: 'payments.refund', args: { chargeId: 'ch_42', cents: 1250 } }],
        usage: { inputTokens: 180, outputTokens: 15 },
      },
      (request) => `Refunded: ${JSON.stringify(request.toolResults[0]?.output)}`,
    ],
    { modelId: 'scripted-support' },
  );
  const billing = agent({
    name: 'billing',
    description: 'Refunds',
    instructions: 'You resolve billing tickets.',
    model,
    tools: [lookup, refund],
  });
  return workflow(name, async (ctx, input: { ticket: string }) => {
    const account = await ctx.step('load-account', () => ({ ticket: input.ticket, plan: 'pro' }));
    return ctx.runAgent(billing, `Ticket ${account.ticket}: refund charge ch_42`);
  });
}

/** A diamond graph: plan, then research and draft at once, then merge. */
export const diamond = graphWorkflow(
  graph('diamond', {
    nodes: {
      plan: { run: (ctx) => ctx.step('plan', () => ['a', 'b']) },
      research: { deps: ['plan'], run: (ctx) => ctx.step('research', () => 'facts') },
      draft: { deps: ['plan'], run: (ctx) => ctx.step('draft', () => 'text') },
      merge: { deps: ['research', 'draft'], run: (_ctx, inputs) => `${inputs.research} + ${inputs.draft}` },
    },
  }),
);

/** A plan that fails at one task and is re-planned keeping what finished, then a bounded review loop. */
export const replanned = workflow('replanned', async (ctx, input: { goal: string }) => {
  const step = (id: string, fail = false) => ({
    description: id,
    run: (taskCtx: typeof ctx) =>
      taskCtx.step(
        id,
        () => {
          if (fail) throw new Error(`${id} is down`);
          return id;
        },
        { retry: { maxAttempts: 1 } },
      ),
  });
  const planned = await plan('replanned', {
    planner: (request) =>
      request.revision === 0
        ? {
            tasks: [
              { id: 'sources', description: 'Sources', worker: 'ok' },
              { id: 'figures', description: 'Figures', worker: 'down' },
              { id: 'report', description: 'Report', worker: 'ok', deps: ['sources', 'figures'] },
            ],
          }
        : {
            tasks: [
              { id: 'archive', description: 'Archive', worker: 'ok' },
              { id: 'report', description: 'Report', worker: 'ok', deps: ['sources', 'archive'] },
            ],
          },
    workers: { ok: step('ok'), down: step('down', true) },
  }).run(ctx, input.goal);
  const review = await machine('review', {
    initial: 'review',
    states: {
      review: {
        run: (_ctx, { visit }) => visit,
        next: [
          { to: 'publish', when: (visit: number) => visit >= 3 },
          { to: 'revise', max: 3 },
        ],
      },
      revise: { next: 'review' },
      publish: {},
    },
  }).run(ctx, null);
  return { revision: planned.revision, final: review.final };
});

export interface TestServer {
  baton: Baton;
  api: BatonServer;
  running: RunningServer;
  url: string;
  /** fetch against the server, with `as`'s token unless told otherwise. */
  call(
    path: string,
    init?: RequestInit & { as?: keyof typeof TOKENS | null; json?: unknown },
  ): Promise<Response>;
  close(): Promise<void>;
}

/** A Baton on a fresh SQLite file with a worker, and the HTTP server over it on 127.0.0.1, port 0. */
export async function startTestServer(
  options: {
    workflows?: BatonOptions['workflows'];
    policies?: PolicyEngine;
    assets?: AssetSource;
    maxBodyBytes?: number;
    maxQueuedRuns?: number;
    worker?: false;
    cors?: CorsOptions;
    /** Cedar policies of the Baton itself (tool calls, handoffs, children), as `Baton.open({ policies })`. */
    runPolicies?: PolicyEngine;
    /** Who gates irreversible tool calls: the guard's approval gate (default) or a plain interceptor. */
    gate?: 'guard' | 'interceptor';
    /** Live streams whose client takes no frame for this long are closed. */
    stallMs?: number;
  } = {},
): Promise<TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'baton-server-'));
  const store = SqliteStore.open({ path: join(directory, 'baton.db') });
  const baton = await Baton.open({
    store,
    workflows: options.workflows ?? [waiter],
    ...(options.worker === false ? { worker: false as const } : { worker: { pollMs: 20 } }),
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
    log: () => undefined,
  });
  const api = await createServer(baton, {
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
    baton,
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
      await baton.close();
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` answers something other than undefined (for states reached by a worker). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
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
