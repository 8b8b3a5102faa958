import { describe, expect, it } from 'vitest';
import { createGrant } from '../src/access/grant.ts';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { toolAccessInterceptor } from '../src/agents/tool-access-interceptor.ts';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { InvalidArgumentError, RunNotFoundError } from '../src/errors.ts';
import { explain } from '../src/explain/explain.ts';
import type { ExplanationNode } from '../src/explain/explanation.ts';
import { formatExplanation } from '../src/explain/format-explanation.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { docsDelete, docsLookup } from './support/docs-tools.ts';
import { harness, harnessesClosedAfterEach } from './support/harness.ts';

const policies = PolicyEngine.fromSources([
  {
    name: 'docs.cedar',
    text: `@id("agents-look-words-up")
permit (principal is Agent, action == Action::"InvokeTool", resource == Tool::"docs.lookup")
when { principal in context.tenant };
`,
  },
]);

const { open } = harnessesClosedAfterEach();

async function explainedRun() {
  const lookup = docsLookup(() => 'a stick passed from runner to runner in a relay race');
  const remove = docsDelete();
  const model = scriptedModel([
    {
      reasoning:
        'The user wants a definition. I should look the word up before answering, and tidy the old page.',
      toolCalls: [
        { name: 'docs.lookup', args: { word: 'baton' } },
        { name: 'docs.delete', args: { word: 'baton' } },
      ],
    },
    'A baton is the stick relay runners pass on.',
  ]);
  const reader = agent({
    name: 'reader',
    description: 'Reads',
    instructions: 'Look words up, then answer in one sentence.',
    model,
    tools: [lookup, remove],
  });
  const flow = workflow('explained', async (ctx, input: { word: string }) => {
    const facts = await ctx.step('load', () => ({ audience: 'children' }));
    return ctx.runAgent(reader, { task: `Define ${input.word}`, context: facts });
  });
  const h = await harness({
    workflows: [flow],
    agents: {
      interceptors: {
        tools: [
          toolAccessInterceptor(policies, {
            grantFor: (_call, context) =>
              createGrant({ tenant: context.tenant, holder: context.principal, actions: ['tool:docs.*'] }),
          }),
        ],
      },
    },
  });
  open.push(h);
  const run = await h.baton.start(flow, { word: 'baton' }, { as: 'user:alice', tenant: 'acme' });
  expect(await run.result()).toBe('A baton is the stick relay runners pass on.');
  return { h, run, events: await run.history() };
}

const child = (node: ExplanationNode, title: string): ExplanationNode => {
  const found = node.children.find((candidate) => candidate.title === title);
  expect(found, `${node.title} › ${title}`).toBeDefined();
  return found!;
};

describe('explain', () => {
  it('tells an agent run as a tree: asked, decided, why (reasoning, policy verdicts), what happened, cost, identity', async () => {
    const { h, run, events } = await explainedRun();
    const explanation = await explain(h.store, run.runId);

    expect(explanation).toMatchObject({
      runId: run.runId,
      workflow: 'explained',
      status: 'completed',
      tenant: 'acme',
      principal: 'user:alice',
      input: { word: 'baton' },
      result: 'A baton is the stick relay runners pass on.',
      events: events.length,
      forks: [],
    });
    expect(explanation.usage.inputTokens).toBeGreaterThan(0);
    expect(explanation.nodes.map((node) => node.title)).toEqual(['step load', 'agent reader']);

    const reader = explanation.nodes[1]!;
    expect(reader).toMatchObject({
      kind: 'agent',
      status: 'ok',
      identity: { actor: 'agent:reader', onBehalfOf: ['workflow:explained', 'user:alice'] },
      facts: {
        model: 'baton-testing:scripted',
        via: 'run',
        tools: ['docs_lookup', 'docs_delete'],
        instructions: 'Look words up, then answer in one sentence.',
      },
    });
    expect(reader.asked!.summary).toContain('Define baton');
    expect(reader.outcome!.summary).toBe(
      'answered after 2 turn(s): A baton is the stick relay runners pass on.',
    );
    expect(reader.children.map((node) => node.title)).toEqual(['turn 1', 'turn 2']);

    const turn1 = child(reader, 'turn 1');
    expect(turn1.decided).toEqual({
      kind: 'tool-calls',
      summary: 'call docs_lookup {"word":"baton"}; call docs_delete {"word":"baton"}',
      calls: [
        { callId: 'call_1_1', name: 'docs_lookup', args: { word: 'baton' } },
        { callId: 'call_1_2', name: 'docs_delete', args: { word: 'baton' } },
      ],
    });
    expect(turn1.why).toEqual([
      {
        kind: 'reasoning',
        summary:
          'The user wants a definition. I should look the word up before answering, and tidy the old page.',
      },
    ]);
    expect(turn1.asked!.summary).toContain('Define baton');
    const call = events.find((event): event is JournalEvent<'llm.called'> => event.type === 'llm.called')!;
    expect(turn1).toMatchObject({
      costUsd: 0,
      usage: call.payload.usage,
      durationMs: call.payload.latencyMs,
      seqs: [call.seq],
    });

    const lookup = child(turn1, 'tool docs.lookup');
    expect(lookup.status).toBe('ok');
    expect(lookup.decided!.summary).toBe('docs.lookup {"word":"baton"}');
    expect(lookup.why![0]).toMatchObject({
      kind: 'policy',
      by: 'agents-look-words-up',
      data: { decision: 'allow', reason: 'policy', policies: ['agents-look-words-up'] },
    });
    expect(lookup.outcome!.value).toEqual({
      word: 'baton',
      meaning: 'a stick passed from runner to runner in a relay race',
    });
    const remove = child(turn1, 'tool docs.delete');
    expect(remove.status).toBe('denied');
    expect(remove.why![0]!.summary).toBe(
      'InvokeTool tool:docs.delete: deny (default deny) — grant ' +
        (remove.why![0]!.data as { grantId: string }).grantId.slice(0, 18),
    );
    expect(remove.outcome!.summary).toBe('denied: it did not run');

    const turn2 = child(reader, 'turn 2');
    expect(turn2.decided).toMatchObject({
      kind: 'answer',
      text: 'A baton is the stick relay runners pass on.',
    });
    expect(turn2.asked!.summary).toContain('docs_lookup →');
    expect(turn2.asked!.summary).toContain('docs_delete failed:');

    // As text: the decision, the tool arguments, the reasoning, the policy verdicts; every line within 100 columns.
    const text = formatExplanation(explanation);
    expect(text).toContain('decided: call docs_lookup {"word":"baton"}; call docs_delete {"word":"baton"}');
    expect(text).toContain('why (reasoning): The user wants a definition.');
    // Long lines wrap under their label: read the text with its continuation lines joined.
    const joined = text.replace(/\n[│├└─ ]+(?=[a-z{"])/g, ' ');
    expect(joined).toContain(
      'why (policy): InvokeTool tool:docs.lookup: allow (policy) — policies agents-look-words-up',
    );
    expect(joined).toContain('why (policy): InvokeTool tool:docs.delete: deny (default deny)');
    expect(joined).toContain(
      'why (reasoning): The user wants a definition. I should look the word up before answering, and tidy the old page.',
    );
    expect(text).toContain('as agent:reader for workflow:explained for user:alice');
    expect(text).toMatch(/├─ \[\d+\] step load/);
    expect(text).toMatch(/└─ \[\d+–\d+\] agent reader/);
    for (const line of text.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(
      formatExplanation(explanation, { width: 60 })
        .split('\n')
        .every((line) => line.length <= 60),
    ).toBe(true);

    // JSON: plain data, all the way down.
    expect(JSON.parse(JSON.stringify(explanation))).toEqual(explanation);
  });

  it('starts from a seq ("teleport"), summing up what came before', async () => {
    const { h, run, events } = await explainedRun();
    const second = events.filter((event) => event.type === 'llm.called')[1]!;
    const explanation = await explain(h.store, run.runId, { at: second.seq });
    expect(explanation.at).toMatchObject({
      seq: second.seq,
      type: 'llm.called',
      path: ['agent reader', 'turn 2'],
      before: { events: second.seq - 1, turns: 1 },
    });
    expect(explanation.nodes.map((node) => node.title)).toEqual(['agent reader']);
    expect(explanation.nodes[0]!.children.map((node) => node.title)).toEqual(['turn 2']);
    expect(formatExplanation(explanation)).toContain(
      `from seq ${second.seq} (llm.called), inside agent reader › turn 2`,
    );
  });

  it('keeps the levels asked for, and counts the rest', async () => {
    const { h, run } = await explainedRun();
    const shallow = await explain(h.store, run.runId, { depth: 1 });
    expect(shallow.nodes.map((node) => [node.title, node.children.length, node.hidden])).toEqual([
      ['step load', 0, undefined],
      ['agent reader', 0, 4],
    ]);
  });

  it('refuses an unknown run with near matches, and a seq outside the journal', async () => {
    const { h, run, events } = await explainedRun();
    const typo = `${run.runId.slice(0, -1)}${run.runId.endsWith('0') ? '1' : '0'}`;
    await expect(explain(h.store, typo)).rejects.toThrow(RunNotFoundError);
    await expect(explain(h.store, typo)).rejects.toThrow(`Did you mean ${run.runId}?`);
    await expect(explain(h.store, run.runId, { at: events.length + 1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(explain(h.store, run.runId, { tenant: 'other' })).rejects.toThrow(RunNotFoundError);
  });
});
