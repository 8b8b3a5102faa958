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
import { expect } from 'vitest';
import { explainEvents } from '../../src/explain/explain.ts';
import type { ExplanationNode } from '../../src/explain/explanation.ts';
import { JournalMetrics } from '../../src/telemetry/journal-metrics.ts';
import { JournalSpans } from '../../src/telemetry/journal-spans.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { costReport, costReportOf } from '../../src/journal/run-model/cost-report.ts';
import { deriveRunModel } from '../../src/journal/run-model/derive-run-model.ts';
import type { RunModel } from '../../src/journal/run-model/run-model.ts';
import { stepDetail } from '../../src/server/step-detail.ts';
import { buildTree, type TreeNode } from '../../ui/src/model/run-model.ts';

// What every reader of a run (explain, the spans and metrics, the step inspector, the cost reports
// and the UI's tree) says of it, checked against the run model they all read.

/** Who asked for each tool call, by the seq of its `tool.requested`: as journaled with the request. */
export function requesters(events: readonly JournalEvent[]): Map<number, string> {
  return new Map(
    events.flatMap((event) =>
      event.type === 'tool.requested' && event.payload.agent !== undefined
        ? [[event.seq, event.payload.agent]]
        : [],
    ),
  );
}

/** The agent each tool call is drawn under in the UI's tree, by the call's seq. */
export function uiAttribution(tree: TreeNode, agent?: string): Map<number, string> {
  const found = new Map<number, string>();
  const inside = tree.kind === 'agent' ? tree.label.slice('agent '.length) : agent;
  if (tree.kind === 'tool' && inside !== undefined) found.set(tree.seq, inside);
  for (const child of tree.children)
    for (const [seq, name] of uiAttribution(child, inside)) found.set(seq, name);
  return found;
}

/** The agent each tool call is told under by `baton explain`, by the call's first seq. */
export function explainAttribution(nodes: readonly ExplanationNode[], agent?: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const node of nodes) {
    const inside = node.kind === 'agent' ? node.title.slice('agent '.length) : agent;
    if (node.kind === 'tool' && inside !== undefined) found.set(node.seqs[0]!, inside);
    for (const [seq, name] of explainAttribution(node.children, inside)) found.set(seq, name);
  }
  return found;
}

export function modelAttribution(model: RunModel): Map<number, string> {
  return new Map(
    model.calls.map((call) => [call.seq, model.agents.find((agent) => agent.key === call.agent)!.name]),
  );
}

/** The spans of a journal as the committer would give it, with each tool span's agent span's name, by call id and agent. */
export function spansOf(events: readonly JournalEvent[]) {
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

export async function metricCostsByAgent(events: readonly JournalEvent[]): Promise<Map<string, number>> {
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

/**
 * Checks that every reader agrees with the run model on a run: the agent of each tool call (the UI's
 * tree, explain, the spans), each call's events and state in the step inspector, the costs (the
 * library's report, the server's, the metrics, explain) and the run's end.
 */
export async function expectReadersAgree(events: readonly JournalEvent[]): Promise<RunModel> {
  const model = deriveRunModel(events);
  const truth = requesters(events);
  expect(modelAttribution(model)).toEqual(truth);
  expect(uiAttribution(buildTree(events, 'run'))).toEqual(truth);
  const explanation = explainEvents(events);
  expect(explainAttribution(explanation.nodes)).toEqual(truth);

  // Telemetry: each finished execute_tool span is a child of its own agent's invoke_agent span.
  const spanParents = spansOf(events);
  for (const call of model.calls) {
    if (call.endSeq === undefined || call.agent === undefined) continue;
    expect(spanParents.get(call.endSeq), `span of call ${call.key}`).toBe(truth.get(call.seq));
  }

  // The step inspector shows each call's own events and the state the model gives it.
  for (const call of model.calls) {
    const detail = stepDetail(events, call.seq)!;
    expect(detail.events.filter((event) => event.type.startsWith('tool.')).map((event) => event.seq)).toEqual(
      call.seqs,
    );
    expect(detail.tool?.callId).toBe(call.callId);
  }

  // Costs: the library's report, the server's (over the model), the metrics and explain agree.
  const report = costReport(events);
  expect(costReportOf([model])).toEqual(report);
  const metricCosts = await metricCostsByAgent(events);
  for (const line of report.byAgent) expect(metricCosts.get(line.agent) ?? 0).toBeCloseTo(line.usd, 9);
  expect(explanation.costUsd).toBeCloseTo(report.total.usd, 8);
  expect(explanation.usage).toEqual({
    inputTokens: report.total.inputTokens,
    outputTokens: report.total.outputTokens,
  });

  // The run's end.
  if (model.end) {
    expect(explanation.status).toBe(model.end.status);
    const root = buildTree(events, 'run').status;
    expect(root).toBe(
      {
        completed: 'completed',
        failed: 'failed',
        timed_out: 'failed',
        cancelled: 'skipped',
        continued: root,
      }[model.end.status],
    );
  }
  return model;
}
