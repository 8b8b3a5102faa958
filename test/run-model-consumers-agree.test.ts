import { describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { Baton } from '../src/baton.ts';
import { explainEvents } from '../src/explain/explain.ts';
import { costReport, costReportOf } from '../src/journal/run-model/cost-report.ts';
import { deriveRunModel } from '../src/journal/run-model/derive-run-model.ts';
import { stepDetail } from '../src/server/step-detail.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { buildTree } from '../ui/src/model/run-model.ts';
import { docsLookup } from './support/docs-tools.ts';
import { harnessesClosedAfterEach, SystemClock } from './support/harness.ts';
import { expectReadersAgree, requesters } from './support/run-model-agreement.ts';

// Every reader of a run (explain, the spans and metrics, the step inspector, the cost report and the
// UI's tree) reads the one run model, so they tell the same run: the same agent for each call, the
// same costs, the same ends. Journals written by real runs.

const { start } = harnessesClosedAfterEach();

async function openBaton(flows: NonNullable<Parameters<typeof Baton.open>[0]>['workflows']): Promise<Baton> {
  return (await start({ workflows: flows, worker: { pollMs: 10 }, clock: new SystemClock() })).baton;
}

/** Two researchers in parallel whose scripted models number their tool calls alike: call ids repeat. */
function researchers() {
  const lookup = docsLookup((word) => `the meaning of ${word}`);
  const researcher = (name: string, word: string) =>
    agent({
      name,
      description: `Researches ${word}`,
      instructions: 'Look it up.',
      model: scriptedModel([
        {
          toolCalls: [{ name: 'docs.lookup', args: { word } }],
          usage: { inputTokens: 100, outputTokens: 10 },
        },
        { text: `Done with ${word}.`, usage: { inputTokens: 150, outputTokens: 5 } },
      ]),
      tools: [lookup],
    });
  return workflow('two-researchers', async (ctx) =>
    Promise.all([
      ctx.runAgent(researcher('fleet-analyst', 'buses'), 'Fleet'),
      ctx.runAgent(researcher('cost-researcher', 'prices'), 'Costs'),
    ]),
  );
}

describe('every reader of a run reads the one run model', () => {
  it('attributes each tool call to its agent by agent and call id when parallel agents reuse call ids', async () => {
    const flow = researchers();
    const baton = await openBaton([flow]);
    const run = await baton.start(flow, {}, { as: 'user:alice' });
    await run.result();
    const events = await baton.history(run.runId);
    const calls = events.filter((event) => event.type === 'tool.requested');
    expect(new Set(calls.map((event) => event.payload.callId)).size).toBe(1);
    expect(calls).toHaveLength(2);

    const truth = requesters(events);
    expect(new Set(truth.values())).toEqual(new Set(['fleet-analyst', 'cost-researcher']));
    const model = await expectReadersAgree(events);
    expect(model.calls.map((call) => call.agent)).toEqual(
      expect.arrayContaining(model.agents.map((agent) => agent.key)),
    );
    const report = costReport(events);
    expect(report.byAgent.map((line) => [line.agent, line.calls, line.inputTokens])).toEqual(
      expect.arrayContaining([
        ['fleet-analyst', 2, 250],
        ['cost-researcher', 2, 250],
      ]),
    );
  });

  it('tells a failed, a cancelled and a forked run the same way in every reader', async () => {
    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model: scriptedModel([{ text: 'A draft.', usage: { inputTokens: 40, outputTokens: 8 } }]),
    });
    const failing = workflow('failing', async (ctx) => {
      await ctx.runAgent(writer, 'Draft it');
      return ctx.step(
        'publish',
        () => {
          throw new Error('the press is down');
        },
        { retry: { maxAttempts: 1 } },
      );
    });
    const waiting = workflow('waiting', async (ctx) => {
      await ctx.step('prepare', () => 'ready');
      return ctx.waitFor('go');
    });
    const baton = await openBaton([failing, waiting]);

    const failed = await baton.start(failing, {}, { as: 'user:alice' });
    await expect(failed.result()).rejects.toThrow();
    const failedEvents = await baton.history(failed.runId);
    const failedModel = await expectReadersAgree(failedEvents);
    expect(failedModel.status).toBe('failed');
    expect(explainEvents(failedEvents).status).toBe('failed');
    expect(buildTree(failedEvents, 'run').status).toBe('failed');
    const publish = failedModel.operations.find((operation) => operation.name === 'publish')!;
    expect(publish.state).toBe('failed');
    expect(stepDetail(failedEvents, publish.seq)!.status).toBe('failed');
    expect(costReportOf([failedModel]).total).toMatchObject({ calls: 1, inputTokens: 40, outputTokens: 8 });
    expect(explainEvents(failedEvents).usage).toEqual({ inputTokens: 40, outputTokens: 8 });

    const cancelled = await baton.start(waiting, {}, { as: 'user:alice' });
    for (;;) {
      const model = deriveRunModel(await baton.history(cancelled.runId));
      if (model.waits.some((wait) => wait.open && wait.name === 'go')) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const parked = deriveRunModel(await baton.history(cancelled.runId));
    expect(parked.status).toBe('waiting');
    await baton.cancel(cancelled.runId, { reason: 'not needed', as: 'user:bob' });
    await expect(cancelled.result()).rejects.toThrow();
    const cancelledEvents = await baton.history(cancelled.runId);
    const cancelledModel = await expectReadersAgree(cancelledEvents);
    expect(cancelledModel.status).toBe('cancelled');
    expect(cancelledModel.links.cancelRequested).toMatchObject({ reason: 'not needed', by: 'user:bob' });
    expect(cancelledModel.waits.filter((wait) => wait.open)).toEqual([]);
    expect(explainEvents(cancelledEvents).status).toBe('cancelled');
    expect(buildTree(cancelledEvents, 'run').status).toBe('skipped');

    const fork = await baton.fork(failed.runId, { at: 2 });
    const forkEvents = await baton.history(fork.runId);
    const forkModel = await expectReadersAgree(forkEvents);
    expect(forkModel.links.forkedFrom).toMatchObject({ runId: failed.runId, seq: 2, copied: 2 });
    expect(explainEvents(forkEvents).fork).toMatchObject({
      from: { runId: failed.runId, seq: 2 },
      copied: 2,
    });
    expect(
      forkModel.operations.filter((operation) => operation.copied).map((operation) => operation.op),
    ).toEqual(
      forkModel.operations
        .filter((operation) => operation.seqs.every((seq) => seq <= 2))
        .map((operation) => operation.op),
    );
  });
});
