import { describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { Baton } from '../src/baton.ts';
import { judge } from '../src/guard/judge-guardrail.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { settle, tempStore } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const cleanup = cleanupsAfterEach();

const RUBRIC = 'The reply is polite and promises no refund.';

function definitions(
  judgeModel: ReturnType<typeof scriptedModel>,
  writerModel: ReturnType<typeof scriptedModel>,
) {
  const writer = agent({
    name: 'writer',
    description: 'Writes replies',
    instructions: 'Reply to the customer.',
    model: writerModel,
    guardrails: { output: [judge({ model: judgeModel, rubric: RUBRIC })] },
  });
  const reply = workflow('reply', async (ctx) => {
    const text = await ctx.runAgent(writer, 'The customer wants their money back.');
    const sent = await ctx.waitFor<{ ok: boolean }>('sent');
    return { text, sent: sent.ok };
  });
  return reply;
}

async function open(
  path: string,
  reply: ReturnType<typeof definitions>,
): Promise<{ baton: Baton; store: SqliteStore }> {
  const store = SqliteStore.open({ path });
  const baton = await Baton.open({
    store,
    workflows: [reply],
    worker: { pollMs: 20 },
    agents: { prices: { 'judge-1': { input: 2, output: 8 } } },
    log: () => {},
  });
  return { baton, store };
}

describe('a judge guardrail', () => {
  it('is asked once; after a restart its verdict is read from the journal, and the judge is not called again', async () => {
    const { path, dispose } = await tempStore();
    cleanup.push(dispose);
    const judgeModel = scriptedModel(
      [
        {
          text: 'PASS\nPolite, and it offers a review instead of a refund.',
          usage: { inputTokens: 300, outputTokens: 12 },
        },
      ],
      {
        modelId: 'judge-1',
      },
    );
    const writerModel = scriptedModel(['We are sorry; we will review your case within two days.']);
    const first = await open(path, definitions(judgeModel, writerModel));
    const run = await first.baton.start('reply', {});
    await settle(first.baton, run.runId, 'waiting');
    await first.baton.close();
    await first.store.close();
    expect(judgeModel.calls).toHaveLength(1);
    expect(judgeModel.calls[0]!.prompt.at(-1)).toMatchObject({ role: 'user' });
    expect(JSON.stringify(judgeModel.calls[0]!.prompt)).toContain(RUBRIC);

    // A new process: a judge with no answers left (asking it would fail the check, and so the run),
    // and a writer with none either: the agent and its check must come from the journal.
    const silentJudge = scriptedModel([], { modelId: 'judge-1' });
    const silentWriter = scriptedModel([]);
    const second = await open(path, definitions(silentJudge, silentWriter));
    cleanup.push(async () => {
      await second.baton.close();
      await second.store.close();
    });
    await second.baton.signal(run.runId, 'sent', { ok: true });
    expect(await second.baton.result(run.runId)).toEqual({
      text: 'We are sorry; we will review your case within two days.',
      sent: true,
    });
    expect(silentJudge.calls).toHaveLength(0);
    expect(silentWriter.calls).toHaveLength(0);

    const [verdict] = of(await second.baton.history(run.runId), 'guard.verdict');
    expect(verdict!.payload).toMatchObject({
      name: 'writer',
      stage: 'agent.output',
      guardrail: 'judge',
      verdict: 'pass',
      reason: 'Polite, and it offers a review instead of a refund.',
      data: {
        judge: 'baton-testing:judge-1',
        usage: { inputTokens: 300, outputTokens: 12 },
        costUsd: 0.000696,
      },
    });
  });

  it('blocks what the judge fails, and fails closed on an answer it cannot read', async () => {
    const { path, dispose } = await tempStore();
    cleanup.push(dispose);
    const judgeModel = scriptedModel(['FAIL\nIt promises a full refund.', 'Maybe?']);
    const writerModel = scriptedModel(['Full refund coming!', 'Full refund coming!']);
    const reply = definitions(judgeModel, writerModel);
    const { baton, store } = await open(path, reply);
    cleanup.push(async () => {
      await baton.close();
      await store.close();
    });
    const failed = await baton.start(reply, {});
    await expect(failed.result()).rejects.toMatchObject({
      code: 'GUARDRAIL_BLOCKED',
      message: expect.stringContaining(
        "Guardrail 'judge' blocked the agent.output of agent 'writer': the judge failed it: It promises a full refund.",
      ),
    });
    const unreadable = await baton.start(reply, {});
    await expect(unreadable.result()).rejects.toMatchObject({
      message: expect.stringContaining(`says neither PASS nor FAIL: "Maybe?"`),
    });
  });
});
