import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { callTool } from '../src/agents/call-tool.ts';
import type { ModelCallInterceptor, ToolCallInterceptor } from '../src/agents/interceptors.ts';
import { tool, type ToolEffect } from '../src/agents/tool.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { scriptedModel, type ScriptedRequest } from '../src/testing/index.ts';
import { harness, tempStore, type Harness } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const cleanup = cleanupsAfterEach();
async function start(options: Parameters<typeof harness>[0]): Promise<Harness> {
  const h = await harness(options);
  cleanup.push(() => h.close());
  return h;
}

/**
 * A workflow whose agent calls `charge` once. `hang` makes the first process's execution never
 * return, so closing that Baton leaves the call between intent and result, as a crash would.
 */
function payments(options: {
  effect: ToolEffect;
  idempotent?: boolean;
  hang: boolean;
  executions: { key: string; attempt: number }[];
}) {
  const charge = tool({
    name: 'payments.charge',
    description: 'Charges a card',
    input: z.object({ cents: z.number().int().positive() }),
    effect: options.effect,
    idempotent: options.idempotent ?? false,
    execute: async ({ cents }, { idempotencyKey, attempt }) => {
      options.executions.push({ key: idempotencyKey, attempt });
      if (options.hang) await new Promise(() => {});
      return { charged: cents };
    },
  });
  // The reply depends only on the conversation, as a real model's would, so a second process answers alike.
  const reply = (request: ScriptedRequest) =>
    request.toolResults.length === 0
      ? { toolCalls: [{ name: 'payments.charge', args: { cents: 500 } }] }
      : `Result: ${JSON.stringify(request.toolResults[0]!.output)}`;
  const model = scriptedModel([reply, reply]);
  const cashier = agent({
    name: 'cashier',
    description: 'Charges',
    instructions: 'Charge 500.',
    model,
    tools: [charge],
  });
  return workflow('checkout', async (ctx) => ctx.runAgent(cashier, 'Charge 5 euros'));
}

/** Starts the run in one Baton, stops it mid-tool, and reopens the store in a second Baton. */
async function interrupted(options: { effect: ToolEffect; idempotent?: boolean }) {
  const { store, dispose } = await tempStore();
  cleanup.push(dispose);
  const first: { key: string; attempt: number }[] = [];
  const before = await harness({
    store,
    workflows: [payments({ ...options, hang: true, executions: first })],
  });
  const run = await before.baton.start('checkout', {});
  await until(() => first.length === 1);
  await before.close();
  const second: { key: string; attempt: number }[] = [];
  const after = await start({
    store: store,
    workflows: [payments({ ...options, hang: false, executions: second })],
  });
  return { run: after.baton.handle(run.runId), h: after, first, second };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error('gave up waiting');
}

describe('a tool call in doubt after a crash', () => {
  it('runs a read tool again', async () => {
    const { run, first, second } = await interrupted({ effect: 'read' });
    expect(await run.result()).toBe('Result: {"charged":500}');
    expect(second).toEqual([{ key: first[0]!.key, attempt: 2 }]);
    const doubt = of(await run.history(), 'tool.inDoubt');
    expect(doubt.map((event) => event.payload.resolution)).toEqual(['rerun']);
  });

  it('runs an idempotent write tool again with the same idempotency key', async () => {
    const { run, first, second } = await interrupted({ effect: 'write', idempotent: true });
    expect(await run.result()).toBe('Result: {"charged":500}');
    expect(second.map((execution) => execution.key)).toEqual([first[0]!.key]);
  });

  it('parks an irreversible tool that is not idempotent until a person skips it, giving the model their result', async () => {
    const { run, h, second } = await interrupted({ effect: 'irreversible' });
    await h.settle(run.runId, 'waiting');
    expect(second).toEqual([]);
    const doubts = await h.baton.inDoubt(run.runId);
    expect(doubts).toHaveLength(1);
    expect(doubts[0]).toMatchObject({
      tool: 'payments.charge',
      effect: 'irreversible',
      args: { cents: 500 },
      actor: 'agent:cashier',
    });

    await h.baton.resolveInDoubt(run.runId, {
      action: 'skip',
      result: { charged: 500, checkedBy: 'ops' },
      as: 'user:ops',
    });
    expect(await run.result()).toBe('Result: {"charged":500,"checkedBy":"ops"}');
    expect(second).toEqual([]);
    const events = await run.history();
    const resolved = of(events, 'tool.resolved')[0]!;
    expect(resolved.payload).toMatchObject({ action: 'skip', by: 'user:ops' });
    expect(await h.baton.inDoubt(run.runId)).toEqual([]);
    expect(verifyChain(events).ok).toBe(true);
  });

  it('runs a parked call again only when a person says retry', async () => {
    const { run, h, first, second } = await interrupted({ effect: 'write' });
    await h.settle(run.runId, 'waiting');
    expect(second).toEqual([]);
    await expect(h.baton.resolveInDoubt(run.runId, { op: 999, action: 'retry' })).rejects.toThrow(
      /no tool call in doubt at op 999/,
    );
    await h.baton.resolveInDoubt(run.runId, { action: 'retry' });
    expect(await run.result()).toBe('Result: {"charged":500}');
    expect(second).toEqual([{ key: first[0]!.key, attempt: 2 }]);
  });
});

describe('interceptors', () => {
  const refund = tool({
    name: 'payments.refund',
    description: 'Refunds',
    input: z.object({ cents: z.number().int().positive() }),
    effect: 'irreversible',
    execute: ({ cents }) => ({ refunded: cents }),
  });

  it('journal each verdict with the intent: deny goes back to the model, rewrite changes the arguments', async () => {
    const cap: ToolCallInterceptor = {
      name: 'cap',
      before: (call) => {
        const { cents } = call.args as { cents: number };
        if (cents > 10_000) return { type: 'deny', reason: 'over the refund limit', data: { limit: 10_000 } };
        if (cents > 1_000) return { type: 'rewrite', args: { cents: 1_000 }, reason: 'capped' };
        return { type: 'allow' };
      },
    };
    const seen: unknown[] = [];
    const audit: ToolCallInterceptor = {
      name: 'audit',
      after: (call, outcome) => void seen.push([call.args, outcome]),
    };
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'payments.refund', args: { cents: 50_000 } },
          { name: 'payments.refund', args: { cents: 2_000 } },
        ],
      },
      (request) => request.toolResults.map((result) => JSON.stringify(result.output)).join(' | '),
    ]);
    const clerk = agent({
      name: 'clerk',
      description: 'Refunds',
      instructions: 'Refund.',
      model,
      tools: [refund],
    });
    const flow = workflow('refunds', async (ctx) => ctx.runAgent(clerk, 'Refund both'));
    const h = await start({ workflows: [flow], agents: { interceptors: { tools: [cap, audit] } } });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe(
      '"The call was denied by cap: over the refund limit" | {"refunded":1000}',
    );
    const events = await run.history();
    const verdicts = of(events, 'tool.verdict').map((event) => [
      event.payload.interceptor,
      event.payload.verdict,
      event.payload.args,
    ]);
    expect(verdicts).toEqual([
      ['cap', 'deny', undefined],
      ['cap', 'rewrite', { cents: 1_000 }],
    ]);
    expect(of(events, 'tool.verdict')[0]!.payload.data).toEqual({ limit: 10_000 });
    expect(of(events, 'tool.called')).toHaveLength(1);
    expect(seen).toHaveLength(2);
  });

  it('park a call until an approval signal arrives', async () => {
    const gatekeeper: ToolCallInterceptor = {
      name: 'approvals',
      before: (call) =>
        call.tool.effect === 'irreversible' ? { type: 'park', reason: 'needs a second person' } : undefined,
    };
    const flow = workflow('approve-refund', async (ctx) => callTool(ctx, refund, { cents: 300 }));
    const h = await start({ workflows: [flow], agents: { interceptors: { tools: [gatekeeper] } } });
    const run = await h.baton.start(flow, {});
    await h.settle(run.runId, 'waiting');
    const parked = of(await run.history(), 'tool.verdict')[0]!;
    expect(parked.payload).toMatchObject({ verdict: 'park', signal: `baton.approve:${parked.payload.op}` });
    await h.baton.signal(run.runId, parked.payload.signal!, { approved: true, by: 'user:dana' });
    expect(await run.result()).toEqual({ refunded: 300 });
    const decided = of(await run.history(), 'tool.verdict')[1]!;
    expect(decided.payload).toMatchObject({ phase: 'decided', verdict: 'allow', data: { by: 'user:dana' } });
  });

  it('rewrite a result before the model sees it (redaction), keeping only the rewritten one, and give tools scoped secrets', async () => {
    const asked: unknown[] = [];
    const lookup = tool({
      name: 'customer.lookup',
      description: 'Looks a customer up',
      input: z.object({ id: z.string() }),
      effect: 'read',
      execute: async ({ id }, { secrets }) => ({
        id,
        card: '4242 4242 4242 4242',
        token: await secrets.get('crm-token'),
      }),
    });
    const redact: ToolCallInterceptor = {
      name: 'pii',
      after: (_call, outcome) =>
        outcome.ok
          ? {
              type: 'rewrite',
              result: { ...(outcome.result as object), card: '•••• 4242', token: undefined },
              reason: 'card numbers',
            }
          : undefined,
    };
    const model = scriptedModel([
      { toolCalls: [{ name: 'customer.lookup', args: { id: 'c1' } }] },
      (request) => JSON.stringify(request.toolResults[0]!.output),
    ]);
    const bot = agent({ name: 'support-bot', description: 'x', instructions: 'x', model, tools: [lookup] });
    const flow = workflow('lookup', async (ctx) => ctx.runAgent(bot, 'Who is c1?'));
    const h = await start({
      workflows: [flow],
      agents: {
        interceptors: { tools: [redact] },
        secrets: (name, request) => {
          asked.push({ name, tool: request.tool, actor: request.actor });
          return name === 'crm-token' ? 's3cret' : undefined;
        },
      },
    });
    const run = await h.baton.start(flow, {});
    expect(JSON.parse(await run.result())).toEqual({ id: 'c1', card: '•••• 4242' });
    expect(asked).toEqual([{ name: 'crm-token', tool: 'customer.lookup', actor: 'agent:support-bot' }]);
    const journal = JSON.stringify(await run.history());
    expect(journal).not.toContain('4242 4242');
    expect(journal).not.toContain('s3cret');
    expect(of(await run.history(), 'tool.verdict')[0]!.payload).toMatchObject({
      interceptor: 'pii',
      phase: 'after',
      verdict: 'rewrite',
    });
  });

  it('deny a model call (a budget), failing the agent with a clear error', async () => {
    const budget: ModelCallInterceptor = {
      name: 'budget',
      before: (call) => (call.turn > 1 ? { type: 'deny', reason: 'the run spent its budget' } : undefined),
    };
    const ping = tool({
      name: 'ping',
      description: 'Pings',
      input: z.object({}),
      effect: 'read',
      execute: () => 'pong',
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'ping', args: {} }] }, 'never']);
    const bot = agent({ name: 'spender', description: 'x', instructions: 'x', model, tools: [ping] });
    const flow = workflow('budgeted', async (ctx) => ctx.runAgent(bot, 'go'));
    const h = await start({ workflows: [flow], agents: { interceptors: { models: [budget] } } });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toThrow(/denied by budget: the run spent its budget/);
    expect(model.calls).toHaveLength(1);
    expect(of(await run.history(), 'llm.verdict')[0]!.payload).toMatchObject({
      interceptor: 'budget',
      verdict: 'deny',
    });
  });
});
