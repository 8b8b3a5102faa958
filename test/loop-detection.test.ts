import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach();

function lookupTool(calls: string[]) {
  return tool({
    name: 'orders.lookup',
    description: 'Looks an order up',
    input: z.object({ orderId: z.string() }),
    effect: 'read',
    execute: async ({ orderId }) => {
      calls.push(orderId);
      return { orderId, status: 'unknown' };
    },
  });
}

/** A model that asks for the same lookup forever. */
const stuckModel = () =>
  scriptedModel(
    Array.from({ length: 20 }, () => ({ toolCalls: [{ name: 'orders.lookup', args: { orderId: 'A-1' } }] })),
  );

describe('loop detection', () => {
  it('stops an agent that repeats one tool call, with the journal showing why', async () => {
    const calls: string[] = [];
    const model = stuckModel();
    const clerk = agent({
      name: 'clerk',
      description: 'Finds orders',
      instructions: 'Find the order.',
      model,
      tools: [lookupTool(calls)],
      maxTurns: 20,
    });
    const flow = workflow('find-order', async (ctx) => ctx.runAgent(clerk, 'Where is order A-1?'));
    const h = await start({
      workflows: [flow],
      guard: { loops: { repeatedToolCall: { times: 3, window: 10 }, noProgress: false } },
    });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toMatchObject({ code: 'LOOP_DETECTED' });

    // Two lookups ran; the third identical one was refused before it ran, and the agent stopped.
    expect(calls).toEqual(['A-1', 'A-1']);
    expect(model.calls).toHaveLength(3);
    const events = await run.history();
    const [loop] = of(events, 'loop.detected');
    expect(loop).toBeDefined();
    expect(loop!.payload).toMatchObject({
      name: 'clerk',
      kind: 'repeated-tool-call',
      action: 'stop',
      evidence: { tool: 'orders.lookup', args: { orderId: 'A-1' }, times: 3, window: 10 },
    });
    expect(loop!.actor).toBe('agent:clerk');
    // The evidence names the ops of the repeated calls; the refused one has no result.
    const ops = (loop!.payload.evidence as { ops: number[] }).ops;
    expect(ops).toHaveLength(3);
    const called = of(events, 'tool.called').map((event) => event.payload.op);
    expect(called).toEqual(ops.slice(0, 2));
    const refused = of(events, 'tool.verdict').find(
      (event) => event.payload.op === ops[2] && event.payload.verdict === 'deny',
    );
    expect(refused?.payload.interceptor).toBe('guard.loop');
    // The next model call was refused too, and the agent failed with the loop as its reason.
    const denied = of(events, 'llm.verdict').at(-1)!;
    expect(denied.payload).toMatchObject({ interceptor: 'guard.loop', verdict: 'deny' });
    expect(of(events, 'agent.failed')[0]!.payload.error.code).toBe('MODEL_CALL_DENIED');
    const failed = of(events, 'run.failed')[0]!;
    expect(failed.payload.error).toMatchObject({ name: 'LoopDetectedError', code: 'LOOP_DETECTED' });
    expect(failed.payload.error.message).toContain("Agent 'clerk' was stopped");
    expect(verifyChain(events).ok).toBe(true);
  });

  it('stops an agent whose turns add nothing new', async () => {
    // Different arguments each time (so no call repeats), but every result is one seen before.
    const model = scriptedModel(
      Array.from({ length: 12 }, (_, turn) => ({
        toolCalls: [{ name: 'kb.search', args: { query: `refund policy ${turn}` } }],
        text: 'Still looking.',
      })),
    );
    const search = tool({
      name: 'kb.search',
      description: 'Searches',
      input: z.object({ query: z.string() }),
      effect: 'read',
      execute: async () => ({ hits: [] }),
    });
    const researcher = agent({
      name: 'researcher',
      description: 'Researches',
      instructions: 'Research.',
      model,
      tools: [search],
      maxTurns: 12,
    });
    const flow = workflow('research', async (ctx) => ctx.runAgent(researcher, 'What is the refund policy?'));
    const h = await start({
      workflows: [flow],
      guard: { loops: { noProgress: { turns: 2 }, repeatedToolCall: false } },
    });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toMatchObject({ code: 'LOOP_DETECTED' });
    const events = await run.history();
    const [loop] = of(events, 'loop.detected');
    expect(loop!.payload).toMatchObject({ name: 'researcher', kind: 'no-progress', action: 'stop' });
    expect((loop!.payload.evidence as { turns: unknown[] }).turns).toHaveLength(2);
    // Turn 1 found something new (its first result); turns 2 and 3 did not; the 4th call was refused.
    expect(model.calls).toHaveLength(3);
  });

  it('escalates to a person, who lets the agent go on, and it finishes', async () => {
    const calls: string[] = [];
    const model = scriptedModel([
      { toolCalls: [{ name: 'orders.lookup', args: { orderId: 'A-1' } }] },
      { toolCalls: [{ name: 'orders.lookup', args: { orderId: 'A-1' } }] },
      { toolCalls: [{ name: 'orders.lookup', args: { orderId: 'A-1' } }] },
      'Order A-1 is unknown; I asked three times.',
    ]);
    const clerk = agent({
      name: 'clerk',
      description: 'Finds orders',
      instructions: 'Find the order.',
      model,
      tools: [lookupTool(calls)],
    });
    const flow = workflow('find-order', async (ctx) => ctx.runAgent(clerk, 'Where is order A-1?'));
    const h = await start({
      workflows: [flow],
      guard: {
        loops: {
          repeatedToolCall: { times: 3 },
          noProgress: false,
          onLoop: { escalate: { approvers: ['group:ops'] } },
        },
        approvals: { groups: { ops: ['user:olga'] } },
      },
    });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    expect(calls).toHaveLength(2);

    const [pending] = await h.baton.approvals({ mine: true, as: 'user:olga' });
    expect(pending).toMatchObject({
      runId: run.runId,
      kind: 'loop',
      action: 'loop.continue',
      approvers: ['group:ops'],
      members: ['user:olga'],
    });
    await expect(h.baton.approve(run.runId, pending!.approvalId, { as: 'user:bob' })).rejects.toMatchObject({
      code: 'APPROVAL_FORBIDDEN',
    });
    await h.baton.approve(run.runId, pending!.approvalId, {
      as: 'user:olga',
      comment: 'the backend is slow; let it try',
    });
    expect(await run.result()).toBe('Order A-1 is unknown; I asked three times.');
    expect(calls).toHaveLength(3);
    const decided = of(await run.history(), 'approval.decided')[0]!;
    expect(decided.payload).toMatchObject({
      approvalId: pending!.approvalId,
      decision: 'approved',
      by: 'user:olga',
      comment: 'the backend is slow; let it try',
    });
  });
});
