import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/agents/agent-context.ts';
import { Baton } from '../src/baton.ts';
import { explainEvents } from '../src/explain/explain.ts';
import type { ExplanationNode } from '../src/explain/explanation.ts';
import { JournalMetrics } from '../src/explain/journal-metrics.ts';
import { JournalSpans } from '../src/explain/journal-spans.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { costReport, costReportOf } from '../src/journal/run-model/cost-report.ts';
import { deriveRunModel } from '../src/journal/run-model/derive-run-model.ts';
import type { RunModel } from '../src/journal/run-model/run-model.ts';
import { stepDetail } from '../src/server/step-detail.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { buildTree, type TreeNode } from '../ui/src/model/run-model.ts';
import { docsLookup } from './support/docs-tools.ts';

// Every reader of a run (explain, the spans and metrics, the step inspector, the cost report and the
// UI's tree) reads the one run model, so they tell the same run: the same agent for each call, the
// same costs, the same ends. Journals written by real runs.

const open: Baton[] = [];
afterEach(async () => {
  for (const baton of open.splice(0)) await baton.close();
});

async function openBaton(flows: NonNullable<Parameters<typeof Baton.open>[0]>['workflows']): Promise<Baton> {
  const baton = await Baton.open({
    store: 'sqlite::memory:',
    workflows: flows,
    worker: { pollMs: 10 },
    log: () => undefined,
  });
  open.push(baton);
  return baton;
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
      ctx.run(researcher('fleet-analyst', 'buses'), 'Fleet'),
      ctx.run(researcher('cost-researcher', 'prices'), 'Costs'),
    ]),
  );
}

/** Who asked for each tool call, by the seq of its `tool.requested`: as journaled with the request. */
function requesters(events: readonly JournalEvent[]): Map<number, string> {
  return new Map(
    events.flatMap((event) =>
      event.type === 'tool.requested' && event.payload.agent !== undefined
        ? [[event.seq, event.payload.agent]]
        : [],
    ),
  );
}

/** The agent each tool call is drawn under in the UI's tree, by the call's seq. */
function uiAttribution(tree: TreeNode, agent?: string): Map<number, string> {
  const found = new Map<number, string>();
  const inside = tree.kind === 'agent' ? tree.label.slice('agent '.length) : agent;
  if (tree.kind === 'tool' && inside !== undefined) found.set(tree.seq, inside);
  for (const child of tree.children)
    for (const [seq, name] of uiAttribution(child, inside)) found.set(seq, name);
  return found;
}

/** The agent each tool call is told under by `baton explain`, by the call's first seq. */
function explainAttribution(nodes: readonly ExplanationNode[], agent?: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const node of nodes) {
    const inside = node.kind === 'agent' ? node.title.slice('agent '.length) : agent;
    if (node.kind === 'tool' && inside !== undefined) found.set(node.seqs[0]!, inside);
    for (const [seq, name] of explainAttribution(node.children, inside)) found.set(seq, name);
  }
  return found;
}

function modelAttribution(model: RunModel): Map<number, string> {
  return new Map(
    model.calls.map((call) => [call.seq, model.agents.find((agent) => agent.key === call.agent)!.name]),
  );
}

/** The spans of a journal as the committer would give it, with each tool span's agent span's name, by call id and agent. */
function spansOf(events: readonly JournalEvent[]) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const spans = new JournalSpans(provider.getTracer('test'));
  spans.record([{ runId: events[0]!.runId, owner: 'test', events }]);
  spans.close();
  const finished = exporter.getFinishedSpans();
  const byId = new Map(finished.map((span) => [span.spanContext().spanId, span]));
  const tools = finished.filter((span) => span.name.startsWith('execute_tool '));
  return new Map(
    tools.map((span) => {
      const parent = byId.get(span.parentSpanContext?.spanId ?? '');
      return [Number(span.attributes['baton.seq']), parent?.name.replace(/^invoke_agent /, '') ?? ''];
    }),
  );
}

async function metricCostsByAgent(events: readonly JournalEvent[]): Promise<Map<string, number>> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new JournalMetrics(provider.getMeter('test'));
  metrics.record([{ runId: events[0]!.runId, owner: 'test', events }]);
  await reader.forceFlush();
  const cost = exporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
    .find((metric) => metric.descriptor.name === 'baton.cost');
  const byAgent = new Map<string, number>();
  for (const point of cost?.dataPoints ?? []) {
    const name = String(point.attributes['gen_ai.agent.name']);
    byAgent.set(name, (byAgent.get(name) ?? 0) + Number(point.value));
  }
  metrics.close();
  await provider.shutdown();
  return byAgent;
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
    const model = deriveRunModel(events);
    expect(modelAttribution(model)).toEqual(truth);
    expect(uiAttribution(buildTree(events, 'run'))).toEqual(truth);
    expect(explainAttribution(explainEvents(events).nodes)).toEqual(truth);

    // Telemetry: each execute_tool span is a child of its own agent's invoke_agent span.
    const spanParents = spansOf(events);
    const toolSpanAgents = new Map(
      [...truth.keys()].map((seq) => {
        const call = model.calls.find((candidate) => candidate.seq === seq)!;
        return [seq, spanParents.get(call.endSeq!)];
      }),
    );
    expect(toolSpanAgents).toEqual(truth);

    // The step inspector shows a call's own events, not the other agent's call with the same id.
    for (const [seq] of truth) {
      const call = model.calls.find((candidate) => candidate.seq === seq)!;
      const detail = stepDetail(events, seq)!;
      expect(
        detail.events.filter((event) => event.type.startsWith('tool.')).map((event) => event.seq),
      ).toEqual(call.seqs);
      expect(detail.tool?.callId).toBe(call.callId);
      expect(detail.status).toBe('completed');
    }

    // Costs: the library's report, the server's (over the model) and the metrics agree, per agent.
    const report = costReport(events);
    expect(costReportOf([model])).toEqual(report);
    expect(report.byAgent.map((line) => [line.agent, line.calls, line.usd, line.inputTokens])).toEqual(
      expect.arrayContaining([
        ['fleet-analyst', 2, expect.any(Number), 250],
        ['cost-researcher', 2, expect.any(Number), 250],
      ]),
    );
    const metricCosts = await metricCostsByAgent(events);
    for (const line of report.byAgent) expect(metricCosts.get(line.agent)).toBeCloseTo(line.usd, 9);
    expect(explainEvents(events).costUsd).toBeCloseTo(report.total.usd, 8);
    expect(explainEvents(events).usage).toEqual({
      inputTokens: report.total.inputTokens,
      outputTokens: report.total.outputTokens,
    });
  });

  it('tells a failed, a cancelled and a forked run the same way in every reader', async () => {
    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model: scriptedModel([{ text: 'A draft.', usage: { inputTokens: 40, outputTokens: 8 } }]),
    });
    const failing = workflow('failing', async (ctx) => {
      await ctx.run(writer, 'Draft it');
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
    const failedModel = deriveRunModel(failedEvents);
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
    const cancelledModel = deriveRunModel(cancelledEvents);
    expect(cancelledModel.status).toBe('cancelled');
    expect(cancelledModel.links.cancelRequested).toMatchObject({ reason: 'not needed', by: 'user:bob' });
    expect(cancelledModel.waits.filter((wait) => wait.open)).toEqual([]);
    expect(explainEvents(cancelledEvents).status).toBe('cancelled');
    expect(buildTree(cancelledEvents, 'run').status).toBe('skipped');

    const fork = await baton.fork(failed.runId, { at: 2 });
    const forkEvents = await baton.history(fork.runId);
    const forkModel = deriveRunModel(forkEvents);
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
