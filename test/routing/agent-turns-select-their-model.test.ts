import { afterEach, describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { runAgent } from '../../src/agents/run-agent.ts';
import type { AgentModelStrategy } from '../../src/agents/turn-model-selection.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { costReport } from '../../src/journal/run-model/cost-report.ts';
import { judgeVerifier } from '../../src/routing/judge-verifier.ts';
import { scriptedModel, type ScriptedModel, type ScriptedRequest } from '../../src/testing/index.ts';
import { harness, tempStore, type Harness } from '../support/harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const of = <T extends JournalEvent['type']>(events: readonly JournalEvent[], type: T): JournalEvent<T>[] =>
  events.filter((event): event is JournalEvent<T> => event.type === type);

const USAGE = { inputTokens: 100, outputTokens: 50 };
const MINI_PRICE = { input: 0.1, output: 0.4 };
const LARGE_PRICE = { input: 2, output: 8 };

/** A cheap model that is sure only of easy questions, and a large one that always is. */
function models(): { mini: ScriptedModel; large: ScriptedModel } {
  const mini = scriptedModel(
    Array.from({ length: 20 }, () => (request: ScriptedRequest) => ({
      text: request.lastUserText.startsWith('easy') ? `ok: ${request.lastUserText} (mini)` : 'not sure',
      usage: USAGE,
    })),
    { modelId: 'mini' },
  );
  const large = scriptedModel(
    Array.from({ length: 20 }, () => (request: ScriptedRequest) => ({
      text: `ok: ${request.lastUserText} (large)`,
      usage: USAGE,
    })),
    { modelId: 'large' },
  );
  return { mini, large };
}

async function open(
  routing: AgentModelStrategy,
  store?: Awaited<ReturnType<typeof tempStore>>,
): Promise<{ h: Harness; flow: ReturnType<typeof answerAll>; temp: Awaited<ReturnType<typeof tempStore>> }> {
  const temp = store ?? (await tempStore());
  const flow = answerAll(routing);
  const h = await harness({ workflows: [flow], store: temp.store });
  cleanups.push(async () => {
    await h.close();
    if (!store) await temp.dispose();
  });
  return { h, flow, temp };
}

/** Answers each prompt with a routed agent, then waits for `finish` (so a restart replays it). */
function answerAll(routing: AgentModelStrategy) {
  const helper = agent({
    name: 'helper',
    description: 'Answers questions',
    instructions: 'Answer briefly.',
    routing,
  });
  return workflow('answer-all', async (ctx, input: { prompts: string[] }) => {
    const answers = [];
    for (const prompt of input.prompts) {
      const result = await runAgent(ctx, helper, prompt);
      answers.push({ text: result.text, costUsd: result.costUsd, usage: result.usage });
    }
    await ctx.waitFor('finish');
    return answers;
  });
}

describe('agent turns are routed', () => {
  it('a cascade escalates exactly when the verifier rejects, journals one decision per turn, and replays after a restart without calling either model', async () => {
    const { mini, large } = models();
    const seen: string[] = [];
    const routing: AgentModelStrategy = {
      strategy: 'cascade',
      models: [
        { id: 'baton-testing:mini', model: mini, price: MINI_PRICE },
        { id: 'baton-testing:large', model: large, price: LARGE_PRICE },
      ],
      verify: (reply) => {
        seen.push(reply.text);
        return reply.text.startsWith('ok');
      },
    };
    const { h, temp } = await open(routing);
    const prompts = ['easy: 2+2', 'hard: prove it', 'easy: 3+1', 'hard: design it'];
    const run = await h.baton.start(h.baton.workflows.get('answer-all')!, { prompts });
    await h.settle(run.runId, 'waiting');

    // The cheap model saw every prompt; the large one only those whose cheap answer was rejected.
    expect(mini.calls.map((call) => call.lastUserText)).toEqual(prompts);
    expect(large.calls.map((call) => call.lastUserText)).toEqual(['hard: prove it', 'hard: design it']);
    // The verifier never saw the last model's answer.
    expect(seen).toEqual(['ok: easy: 2+2 (mini)', 'not sure', 'ok: easy: 3+1 (mini)', 'not sure']);

    const events = await run.history();
    const routed = of(events, 'model.routed').map((event) => event.payload);
    expect(routed.map((decision) => [decision.chosen, decision.attempts])).toEqual([
      ['baton-testing:mini', 1],
      ['baton-testing:large', 2],
      ['baton-testing:mini', 1],
      ['baton-testing:large', 2],
    ]);
    expect(routed[1]).toMatchObject({
      name: 'helper',
      strategy: 'cascade',
      agent: 'agent:helper',
      candidates: ['baton-testing:mini', 'baton-testing:large'],
      verdicts: [{ model: 'baton-testing:mini', accepted: false, reason: 'check failed' }],
      reason:
        'baton-testing:mini rejected by the verifier (check failed); escalated to the last model, baton-testing:large, kept without verification',
      costUsd: 0.00063,
    });
    expect(routed[0]!.verdicts).toEqual([
      { model: 'baton-testing:mini', accepted: true, reason: 'check passed' },
    ]);
    // Each turn is one commit of its op: the kept reply (llm.called), the rejected answers
    // (model.attempted), the decision.
    const attempted = of(events, 'model.attempted').map((event) => event.payload);
    expect(attempted.map((attempt) => [attempt.model, attempt.output, attempt.verdict?.accepted])).toEqual([
      ['baton-testing:mini', { text: 'not sure', toolCalls: [], finishReason: 'stop' }, false],
      ['baton-testing:mini', { text: 'not sure', toolCalls: [], finishReason: 'stop' }, false],
    ]);
    const called = of(events, 'llm.called');
    expect(called.map((event) => event.payload.model)).toEqual(['mini', 'large', 'mini', 'large']);
    const turnOps = called.map((event) => event.payload.op);
    const commits = turnOps.map((op) =>
      events
        .filter((event) => (event.payload as { op?: number }).op === op)
        .map((event) => [event.type, event.seq]),
    );
    expect(commits.map((commit) => commit.map(([type]) => type))).toEqual([
      ['llm.called', 'model.routed'],
      ['llm.called', 'model.attempted', 'model.routed'],
      ['llm.called', 'model.routed'],
      ['llm.called', 'model.attempted', 'model.routed'],
    ]);
    for (const commit of commits) {
      commit.forEach(([, seq], index) => expect(seq).toBe((commit[0]![1] as number) + index));
    }
    // Cost per model: every call counted once, the rejected answers included.
    const report = costReport(events);
    const byModel = (model: string) => report.byModel.find((line) => line.model === model);
    expect(byModel('baton-testing:mini')).toMatchObject({ calls: 4, usd: 0.00012 });
    expect(byModel('baton-testing:large')).toMatchObject({ calls: 2, usd: 0.0012 });

    // A restart: a new Baton on the same store resumes the run by replay.
    await h.close();
    cleanups.shift();
    const again = await open(routing, temp);
    cleanups.push(() => temp.dispose());
    await again.h.baton.signal(run.runId, 'finish');
    const answers = (await again.h.baton.handle(run.runId).result()) as { text: string; costUsd: number }[];
    expect(mini.calls).toHaveLength(4);
    expect(large.calls).toHaveLength(2);
    expect(answers.map((answer) => answer.text)).toEqual([
      'ok: easy: 2+2 (mini)',
      'ok: hard: prove it (large)',
      'ok: easy: 3+1 (mini)',
      'ok: hard: design it (large)',
    ]);
    // The escalated turns cost both calls, live and replayed alike.
    expect(answers.map((answer) => answer.costUsd)).toEqual([0.00003, 0.00063, 0.00003, 0.00063]);
  });

  it('routes each turn by its difficulty estimate and journals the estimate', async () => {
    const { mini, large } = models();
    const { h } = await open({
      strategy: 'difficulty',
      tiers: [
        { upTo: 0.3, model: { id: 'baton-testing:mini', model: mini } },
        { upTo: 1, model: { id: 'baton-testing:large', model: large } },
      ],
      estimate: (request) => (JSON.stringify(request.messages).includes('hard') ? 0.9 : 0.1),
    });
    const run = await h.baton.start(h.baton.workflows.get('answer-all')!, {
      prompts: ['easy: 1+1', 'hard: why?'],
    });
    await h.settle(run.runId, 'waiting');
    expect(mini.calls.map((call) => call.lastUserText)).toEqual(['easy: 1+1']);
    expect(large.calls.map((call) => call.lastUserText)).toEqual(['hard: why?']);
    const routed = of(await run.history(), 'model.routed').map((event) => event.payload);
    expect(routed).toMatchObject([
      {
        strategy: 'difficulty',
        chosen: 'baton-testing:mini',
        difficulty: 0.1,
        reason: 'difficulty 0.1 ≤ 0.3: baton-testing:mini',
      },
      { strategy: 'difficulty', chosen: 'baton-testing:large', difficulty: 0.9, attempts: 1 },
    ]);
    expect(of(await run.history(), 'model.attempted')).toEqual([]);
  });

  it('journals the judge that accepted a cheap answer with the decision, and counts its cost', async () => {
    const { mini, large } = models();
    const judge = scriptedModel([{ text: '0.9', usage: { inputTokens: 1000, outputTokens: 1 } }], {
      modelId: 'judge',
    });
    const { h } = await open({
      strategy: 'cascade',
      models: [
        { id: 'baton-testing:mini', model: mini, price: MINI_PRICE },
        { id: 'baton-testing:large', model: large, price: LARGE_PRICE },
      ],
      verify: judgeVerifier({ model: judge, threshold: 0.7, price: { input: 1, output: 1 } }),
    });
    const run = await h.baton.start(h.baton.workflows.get('answer-all')!, { prompts: ['hard: is it?'] });
    await h.settle(run.runId, 'waiting');
    expect(large.calls).toHaveLength(0);
    const events = await run.history();
    const [decision] = of(events, 'model.routed').map((event) => event.payload);
    expect(decision).toMatchObject({
      chosen: 'baton-testing:mini',
      verdicts: [{ model: 'baton-testing:mini', accepted: true, score: 0.9 }],
      judge: {
        model: 'baton-testing:judge',
        usage: { inputTokens: 1000, outputTokens: 1 },
        costUsd: 0.001001,
      },
      costUsd: 0.001031,
    });
    expect(costReport(events).byModel.find((line) => line.model === 'baton-testing:judge')).toMatchObject({
      calls: 1,
      usd: 0.001001,
    });
  });

  it('refuses routing that cannot work when the agent is defined', () => {
    const { mini } = models();
    const base = { name: 'helper', description: 'Answers questions', instructions: 'Answer briefly.' };
    expect(() => agent(base)).toThrow("Agent 'helper' needs a model (or routing to choose one).");
    expect(() =>
      agent({
        ...base,
        routing: {
          strategy: 'cascade',
          models: [{ id: 'baton-testing:mini', model: mini }],
          verify: () => true,
          threshold: 2,
        },
      }),
    ).toThrow(
      "Agent 'helper' has routing that is not valid: The cascade threshold must be a number at least 0 and at most 1, got 2.",
    );
    expect(() => agent({ ...base, routing: { strategy: 'fixed', model: { id: 'nowhere:model' } } })).toThrow(
      /nowhere/,
    );
  });
});
