import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mapSecrets } from '../src/access/secret-broker.ts';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { scriptedModel, type ScriptedRequest } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

// Configured fields of a tool's arguments and results never enter the journal, while the tool gets
// the real arguments; secret values handed to a tool never reach the model or the journal.

const CARD = '4111111111111111';
const { start } = harnessesClosedAfterEach();

function chargeTool(received: unknown[], options: { retry?: boolean } = {}) {
  let failures = options.retry ? 1 : 0;
  return tool({
    name: 'payments.charge',
    description: 'Charges a card',
    input: z.object({
      card: z.object({ number: z.string().regex(/^\d{16}$/), exp: z.string() }),
      cents: z.number(),
    }),
    effect: 'irreversible',
    idempotent: true,
    redact: ['card.number'],
    redactResult: ['card.number'],
    ...(options.retry
      ? { retry: { maxAttempts: 3, initialDelay: '1m', backoffCoefficient: 1, maxDelay: '1m' } }
      : {}),
    execute: (args) => {
      received.push(args);
      if (failures-- > 0) throw new Error('the card network is down');
      return { chargeId: 'ch_1', card: { number: args.card.number, last4: args.card.number.slice(-4) } };
    },
  });
}

/** A cashier whose model charges the card on file with `charge`, then answers with `reply`. */
function cashierAgent(charge: ReturnType<typeof chargeTool>, reply: (request: ScriptedRequest) => string) {
  const model = scriptedModel([
    {
      toolCalls: [{ name: 'payments.charge', args: { card: { number: CARD, exp: '12/30' }, cents: 500 } }],
    },
    reply,
  ]);
  const cashier = agent({
    name: 'cashier',
    description: 'Takes payments',
    instructions: 'Charge.',
    model,
    tools: [charge],
  });
  return { model, cashier };
}

describe('redaction', () => {
  it('keeps a card number out of the journal while the tool receives it', async () => {
    const received: unknown[] = [];
    const charge = chargeTool(received);
    const { model, cashier } = cashierAgent(
      charge,
      (request) => `charged: ${JSON.stringify(request.toolResults[0]!.output)}`,
    );
    const flow = workflow('checkout', async (ctx) => ctx.runAgent(cashier, 'Charge the card on file'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    const answer = String(await run.result());

    // The tool got the real number; the model saw only what the journal keeps.
    expect(received).toEqual([{ card: { number: CARD, exp: '12/30' }, cents: 500 }]);
    expect(answer).toBe('charged: {"chargeId":"ch_1","card":{"number":"[redacted]","last4":"1111"}}');

    const events = await run.history();
    expect(verifyChain(events).ok).toBe(true);
    expect(JSON.stringify(events)).not.toContain(CARD);
    const [requested] = of(events, 'tool.requested');
    expect(requested!.payload.args).toEqual({ card: { number: '[redacted]', exp: '12/30' }, cents: 500 });
    expect(requested!.payload.redacted).toEqual(['card.number']);
    // The model's own reply, as journaled, holds the call redacted and says so.
    const reply = of(events, 'llm.called')[0]!.payload.messages.at(-1) as {
      content: { type: string; input?: unknown; providerOptions?: unknown }[];
    };
    const call = reply.content.find((part) => part.type === 'tool-call')!;
    expect(call.input).toEqual({ card: { number: '[redacted]', exp: '12/30' }, cents: 500 });
    expect(call.providerOptions).toEqual({ baton: { redacted: ['card.number'] } });
    // The second model call was sent the conversation as journaled.
    expect(JSON.stringify(model.calls[1]!.prompt)).not.toContain(CARD);

    // Replay takes the call from the journal: nothing runs again.
    expect((await h.baton.replay(run.runId)).ok).toBe(true);
    expect(received).toHaveLength(1);
  });

  it('does not run a redacted call again in a later activation, where its real arguments are gone', async () => {
    const received: unknown[] = [];
    const charge = chargeTool(received, { retry: true });
    const { cashier } = cashierAgent(
      charge,
      (request) => `result: ${String(request.toolResults[0]!.output)}`,
    );
    const flow = workflow('checkout-retry', async (ctx) => ctx.runAgent(cashier, 'Charge the card on file'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    // The first attempt fails; its one-minute retry wait parks the run.
    await h.settle(run.runId, 'waiting');
    await h.advanceUntil(run.runId, 2 * 60_000, 'completed');

    expect(received).toHaveLength(1);
    expect(String(await run.result())).toContain(
      "ToolArgumentsRedactedError: Tool 'payments.charge' cannot run again",
    );
    const events = await run.history();
    expect(JSON.stringify(events)).not.toContain(CARD);
    const [failed] = of(events, 'tool.failed');
    expect(failed!.payload.error.code).toBe('TOOL_ARGUMENTS_REDACTED');
    expect(failed!.payload.error.message).toContain("Tool 'payments.charge' cannot run again");
  });
});

describe('secrets', () => {
  const SECRET = 'sk_live_abcdef123456';

  it('come from the broker scoped by the calling agent’s grant, and are scrubbed from results and errors', async () => {
    const leaky = tool({
      name: 'stripe.debug',
      description: 'Shows the Stripe configuration',
      input: z.object({}),
      effect: 'read',
      secrets: ['stripe.key'],
      execute: async (_args, { secrets }) => ({ configured: `key=${await secrets.get('stripe.key')}` }),
    });
    const failing = tool({
      name: 'stripe.ping',
      description: 'Pings Stripe',
      input: z.object({}),
      effect: 'read',
      secrets: ['stripe.key'],
      execute: async (_args, { secrets }) => {
        throw new Error(`401 for key ${await secrets.get('stripe.key')}`);
      },
    });
    const unlisted = tool({
      name: 'smtp.send',
      description: 'Sends mail',
      input: z.object({}),
      effect: 'write',
      execute: async (_args, { secrets }) => ({ password: await secrets.get('smtp.password') }),
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'stripe.debug', args: {} },
          { name: 'stripe.ping', args: {} },
          { name: 'smtp.send', args: {} },
        ],
      },
      (request) => JSON.stringify(request.toolResults.map((result) => result.output)),
    ]);
    const ops = agent({
      name: 'ops',
      description: 'Ops',
      instructions: 'Check.',
      model,
      tools: [leaky, failing, unlisted],
    });
    const flow = workflow('ops', async (ctx) => ctx.runAgent(ops, 'Check Stripe'));
    const h = await start({
      workflows: [flow],
      secrets: [mapSecrets({ 'stripe.key': SECRET, 'smtp.password': 'smtp-password-1' })],
    });
    // The run may use stripe.key and smtp.password; the agent needs only what its tools declare.
    const run = await h.baton.start(
      flow,
      {},
      {
        as: 'user:alice',
        grant: { actions: ['tool:*', 'secret:stripe.key', 'secret:smtp.password'] },
      },
    );
    const answer = String(await run.result());

    expect(answer).not.toContain(SECRET);
    expect(answer).toContain('key=[secret]');
    expect(answer).toContain('401 for key [secret]');
    // smtp.send declared no secrets, so the agent's grant does not hold smtp.password.
    expect(answer).toContain("agent:ops may not read secret 'smtp.password'");
    expect(JSON.stringify(model.calls)).not.toContain(SECRET);
    const events = await run.history();
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(JSON.stringify(events)).not.toContain('smtp-password-1');
    const [started] = of(events, 'agent.started');
    expect(started!.payload.grant!.actions).toEqual([
      'tool:stripe.debug',
      'secret:stripe.key',
      'tool:stripe.ping',
      'tool:smtp.send',
    ]);
  });
});
