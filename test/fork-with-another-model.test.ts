import { describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { registerModelProvider } from '../src/agents/models.ts';
import { RunNotFoundError } from '../src/errors.ts';
import { ForkPointError, ForkWorkflowError } from '../src/explain/explain-errors.ts';
import { explain } from '../src/explain/explain.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { scriptedModel, type ScriptedModel } from '../src/testing/index.ts';
import { docsLookup } from './support/docs-tools.ts';
import { harness, harnessesClosedAfterEach } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

const { open } = harnessesClosedAfterEach();

// Models a fork may switch to, by id: `fork-test:<name>`.
const models = new Map<string, ScriptedModel>();
registerModelProvider('fork-test', {
  languageModel: (id) => {
    const model = models.get(id);
    if (!model) throw new Error(`no scripted model '${id}'`);
    return model;
  },
});

function setup() {
  const counts = { load: 0, lookups: 0 };
  const lookup = docsLookup(() => (counts.lookups++, 'a stick passed in a relay'));
  const original = scriptedModel(
    [
      { reasoning: 'I should look it up.', toolCalls: [{ name: 'docs.lookup', args: { word: 'baton' } }] },
      'Original: a relay stick.',
    ],
    { modelId: 'original' },
  );
  const bigger = scriptedModel(
    [(request) => `Bigger: ${String((request.toolResults[0]?.output as { meaning?: string })?.meaning)}.`],
    {
      modelId: 'bigger',
      provider: 'fork-test',
    },
  );
  const brief = scriptedModel(
    [(request) => `Brief (${String((request.prompt[0] as { content: string }).content)})`],
    { modelId: 'brief' },
  );
  models.set('bigger', bigger);
  models.set('brief', brief);
  const reader = agent({
    name: 'reader',
    description: 'Reads',
    instructions: 'Look words up, then answer.',
    model: original,
    tools: [lookup],
  });
  const flow = workflow('define', async (ctx, input: { word: string }) => {
    const facts = await ctx.step('load', () => (counts.load++, { asked: input.word }));
    return ctx.runAgent(reader, { task: `Define ${input.word}`, context: facts });
  });
  return { counts, original, bigger, brief, flow };
}

describe('forking a run at an agent turn', () => {
  it('reuses the earlier turns without calling the model, goes on with another model, and the journals point at each other', async () => {
    const { counts, original, bigger, flow } = setup();
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const origin = await h.baton.start(flow, { word: 'baton' }, { as: 'user:alice' });
    expect(await origin.result()).toBe('Original: a relay stick.');
    const before = await origin.history();
    expect(original.calls).toHaveLength(2);

    // Fork after the first turn's tool result: the second turn is asked of the bigger model.
    const at = before.findLast((event) => event.type === 'tool.called')!.seq;
    const forked = await h.baton.fork(origin.runId, {
      at,
      overrides: { model: 'fork-test:bigger' },
      as: 'user:ops',
    });
    expect(await forked.result()).toBe('Bigger: a stick passed in a relay.');

    // The model was not asked again for the first turn, the step and the tool did not run again.
    expect(original.calls).toHaveLength(2);
    expect(bigger.calls).toHaveLength(1);
    expect(counts).toEqual({ load: 1, lookups: 1 });
    // The bigger model saw the conversation so far: the task, the first reply, the tool's result.
    expect(bigger.calls[0]!.prompt.map((message) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
    ]);

    // The fork's journal: the origin's events 1…at re-sealed in its own chain, then run.forked, then live events.
    const events = await forked.history();
    expect(verifyChain(events).ok).toBe(true);
    const strip = (event: JournalEvent) => ({
      seq: event.seq,
      type: event.type,
      at: event.at,
      actor: event.actor,
      onBehalfOf: event.onBehalfOf,
      payload: event.payload,
    });
    expect(events.slice(1, at).map(strip)).toEqual(before.slice(1, at).map(strip));
    expect(events.slice(0, at).every((event) => event.runId === forked.runId)).toBe(true);
    const marker = events[at]!;
    expect(marker).toMatchObject({
      seq: at + 1,
      type: 'run.forked',
      actor: 'user:ops',
      payload: {
        from: { runId: origin.runId, seq: at, hash: before[at - 1]!.hash },
        copied: at,
        overrides: { model: 'fork-test:bigger' },
      },
    });
    expect(types(events.slice(at + 1))).toEqual(['llm.called', 'agent.completed', 'run.completed']);
    expect(events[at + 1]!.payload).toMatchObject({ provider: 'fork-test', model: 'bigger', turn: 2 });

    // The origin: its journal untouched, a run.forkedTo note beside it.
    const after = await origin.history();
    expect(after).toEqual(before);
    expect(verifyChain(after).ok).toBe(true);
    const originRun = await h.baton.getRun(origin.runId);
    expect(originRun.metadata.forkedTo).toEqual([
      { type: 'run.forkedTo', runId: forked.runId, seq: at, at: marker.at, by: 'user:ops' },
    ]);
    expect((await h.baton.getRun(forked.runId)).metadata.forkOf).toEqual({ runId: origin.runId, seq: at });

    // Explain shows both directions and which events were copied.
    const explainedOrigin = await explain(h.store, origin.runId);
    expect(explainedOrigin.forks).toEqual([{ runId: forked.runId, seq: at, at: marker.at, by: 'user:ops' }]);
    const explainedFork = await explain(h.store, forked.runId);
    expect(explainedFork.fork).toEqual({
      from: { runId: origin.runId, seq: at },
      copied: at,
      overrides: { model: 'fork-test:bigger' },
    });
    const turns = explainedFork.nodes.find((node) => node.kind === 'agent')!.children;
    expect(turns.map((turn) => [turn.title, turn.copied ?? false, turn.facts?.model])).toEqual([
      ['turn 1', true, 'baton-testing:original'],
      ['turn 2', false, 'fork-test:bigger'],
    ]);

    // A replay of the fork on today's code is clean.
    expect(await h.baton.replay(forked.runId)).toMatchObject({ ok: true });
  });

  it('overrides the instructions for the turns after the fork point', async () => {
    const { flow } = setup();
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const origin = await h.baton.start(flow, { word: 'baton' });
    await origin.result();
    const at = (await origin.history()).findLast((event) => event.type === 'tool.called')!.seq;
    const forked = await h.baton.fork(origin.runId, {
      at,
      overrides: { model: { reader: 'fork-test:brief' }, instructions: 'Be brief.' },
    });
    expect(await forked.result()).toBe('Brief (Be brief.)');
  });

  it('forks with another input from the start', async () => {
    const { counts, flow } = setup();
    models.set(
      'again',
      scriptedModel([{ toolCalls: [{ name: 'docs.lookup', args: { word: 'relay' } }] }, 'Again.']),
    );
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const origin = await h.baton.start(flow, { word: 'baton' });
    await origin.result();
    const forked = await h.baton.fork(origin.runId, {
      at: 1,
      overrides: { input: { word: 'relay' }, model: 'fork-test:again' },
    });
    expect(await forked.result()).toBe('Again.');
    expect(counts.load).toBe(2);
    const started = (await forked.history())[0] as JournalEvent<'run.started'>;
    expect(started.payload.input).toEqual({ word: 'relay' });
  });

  it('refuses clearly: an unknown run (with near matches), a seq out of range, a workflow no longer registered', async () => {
    const { flow } = setup();
    const store = SqliteStore.open({ path: ':memory:' });
    const h = await harness({ workflows: [flow], store });
    open.push(h);
    const origin = await h.baton.start(flow, { word: 'baton' });
    await origin.result();
    const events = await origin.history();
    const last = events.at(-1)!.seq;

    const typo = `${origin.runId.slice(0, -2)}${origin.runId.endsWith('xx') ? 'yy' : 'xx'}`;
    await expect(h.baton.fork(typo, { at: 2 })).rejects.toThrow(RunNotFoundError);
    await expect(h.baton.fork(typo, { at: 2 })).rejects.toThrow(`Did you mean ${origin.runId}?`);

    await expect(h.baton.fork(origin.runId, { at: last + 5 })).rejects.toThrow(ForkPointError);
    await expect(h.baton.fork(origin.runId, { at: last })).rejects.toThrow(
      `Cannot fork run ${origin.runId} at seq ${last}: its journal has events 1 to ${last}; seq ${last} is its run.completed, which a fork cannot reuse. Fork at a seq from 1 to ${last - 1}`,
    );
    await expect(h.baton.fork(origin.runId, { at: 0 })).rejects.toThrow(ForkPointError);
    await expect(h.baton.fork(origin.runId, { at: 2, overrides: { model: 'nope:x' } })).rejects.toThrow(
      /nope/,
    );

    const elsewhere = await harness({ workflows: [], store, worker: false });
    open.push(elsewhere);
    await expect(elsewhere.baton.fork(origin.runId, { at: 2 })).rejects.toThrow(ForkWorkflowError);
    await expect(elsewhere.baton.fork(origin.runId, { at: 2 })).rejects.toThrow(
      /its workflow 'define' is not registered in this Baton/,
    );

    // Nothing was written by the refusals.
    expect((await h.baton.listRuns()).map((run) => run.runId)).toEqual([origin.runId]);
    expect((await h.baton.getRun(origin.runId)).metadata.forkedTo).toBeUndefined();
    for (const opened of open.splice(0)) await opened.close();
    await store.close();
  });
});
