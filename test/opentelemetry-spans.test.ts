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
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { runTraceContext } from '../src/telemetry/journal-spans.ts';
import { openTelemetry } from '../src/telemetry/telemetry.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { docsDelete, docsLookup } from './support/docs-tools.ts';
import { harness, harnessesClosedAfterEach } from './support/harness.ts';

const HOUR = 3_600_000;
const { open } = harnessesClosedAfterEach();

function setup() {
  const exporter = new InMemorySpanExporter();
  const tracing = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const metering = new MeterProvider({ readers: [reader] });
  const lookup = docsLookup(() => 'a relay stick');
  const remove = docsDelete();
  const model = scriptedModel([
    {
      toolCalls: [
        { name: 'docs.lookup', args: { word: 'baton' } },
        { name: 'docs.delete', args: { word: 'baton' } },
      ],
      usage: { inputTokens: 120, outputTokens: 30 },
    },
    { text: 'A baton is a relay stick.', usage: { inputTokens: 200, outputTokens: 12 } },
  ]);
  const reader_ = agent({
    name: 'reader',
    description: 'Reads',
    instructions: 'Look words up.',
    model,
    tools: [lookup, remove],
  });
  const flow = workflow('agent-flow', async (ctx) => {
    await ctx.step('load', () => ({ user: 'ada' }));
    const answer = await ctx.runAgent(reader_, 'Define baton');
    await ctx.sleep('1h', 'cool-off');
    await ctx.step('notify', () => true);
    return answer;
  });
  return { exporter, tracing, metricExporter, reader, metering, model, flow };
}

const byName = (spans: readonly ReadableSpan[], name: string): ReadableSpan[] =>
  spans.filter((span) => span.name === name);
const one = (spans: readonly ReadableSpan[], name: string): ReadableSpan => {
  const found = byName(spans, name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0]!;
};
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

describe('OpenTelemetry spans from the journal', () => {
  it('follows the GenAI conventions, nests agent, model and tool spans, and does not repeat them on replay', async () => {
    const { exporter, tracing, metricExporter, reader, metering, model, flow } = setup();
    const h = await harness({
      workflows: [flow],
      telemetry: { tracer: tracing.getTracer('test'), meter: metering.getMeter('test') },
      agents: {
        interceptors: {
          tools: [
            {
              name: 'read-only',
              before: (call) =>
                call.tool.name === 'docs.delete'
                  ? { type: 'deny', reason: 'this run only reads' }
                  : undefined,
            },
          ],
        },
      },
    });
    open.push(h);
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    h.advance(HOUR);
    expect(await run.result()).toBe('A baton is a relay stick.');
    const events = await run.history();
    const spans = exporter.getFinishedSpans();

    // Names: one run span per activation (the run parked on its timer in between), the rest once.
    expect(spans.map((span) => span.name).sort()).toEqual(
      [
        'chat scripted',
        'chat scripted',
        'execute_tool docs.delete',
        'execute_tool docs.lookup',
        'invoke_agent reader',
        'run agent-flow',
        'run agent-flow',
        'step load',
        'step notify',
      ].sort(),
    );
    // One trace per run, derived from its id, whichever activation.
    const trace = runTraceContext(run.runId);
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([trace.traceId]));
    const [first, second] = byName(spans, 'run agent-flow').sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    expect([parentOf(first!), parentOf(second!)]).toEqual([trace.spanId, trace.spanId]);
    expect(first!.attributes['baton.run.status']).toBe('waiting');
    expect(second!.attributes['baton.run.status']).toBe('completed');

    // Parentage: run → step, agent; agent → chat, execute_tool.
    const agentSpan = one(spans, 'invoke_agent reader');
    expect(parentOf(agentSpan)).toBe(first!.spanContext().spanId);
    expect(parentOf(one(spans, 'step load'))).toBe(first!.spanContext().spanId);
    expect(parentOf(one(spans, 'step notify'))).toBe(second!.spanContext().spanId);
    const chats = byName(spans, 'chat scripted');
    for (const span of [
      ...chats,
      one(spans, 'execute_tool docs.lookup'),
      one(spans, 'execute_tool docs.delete'),
    ]) {
      expect(parentOf(span)).toBe(agentSpan.spanContext().spanId);
    }

    // GenAI attributes, and Baton's, match the journal.
    const calls = events.filter((event): event is JournalEvent<'llm.called'> => event.type === 'llm.called');
    const turn1 = chats.find((span) => span.attributes['baton.turn'] === 1)!;
    expect(turn1.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'baton-testing',
      'gen_ai.request.model': 'scripted',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.agent.name': 'reader',
      'gen_ai.response.finish_reasons': ['tool-calls'],
      'baton.run.id': run.runId,
      'baton.seq': calls[0]!.seq,
      'baton.op': calls[0]!.payload.op,
      'baton.actor': 'agent:reader',
      'baton.on_behalf_of': ['workflow:agent-flow', 'user:alice'],
      'baton.cost_usd': 0,
      'baton.decision': 'tool-calls',
    });
    expect(agentSpan.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'reader',
      'gen_ai.request.model': 'scripted',
      'gen_ai.usage.input_tokens': 320,
      'gen_ai.usage.output_tokens': 42,
      'baton.decision': 'answer',
    });
    const lookupCall = events.find(
      (event): event is JournalEvent<'tool.called'> => event.type === 'tool.called',
    )!;
    expect(one(spans, 'execute_tool docs.lookup').attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'docs.lookup',
      'gen_ai.tool.call.id': lookupCall.payload.callId,
      'baton.decision': 'allow',
      'baton.seq': lookupCall.seq,
    });
    expect(one(spans, 'execute_tool docs.delete').attributes).toMatchObject({
      'gen_ai.tool.name': 'docs.delete',
      'baton.decision': 'deny',
      'baton.tool.effect': 'irreversible',
    });

    // Replaying the run (the second activation did, and so does an explicit replay) adds no span.
    expect(model.calls).toHaveLength(2);
    await h.baton.replay(run.runId);
    expect(exporter.getFinishedSpans()).toHaveLength(spans.length);

    // Metrics: tokens and cost by model, from the same committed events.
    await reader.forceFlush();
    const metrics = metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    const tokens = metrics.find((metric) => metric.descriptor.name === 'baton.tokens')!;
    const input = tokens.dataPoints
      .filter((point) => point.attributes['gen_ai.token.type'] === 'input')
      .reduce((sum, point) => sum + (point.value as number), 0);
    expect(input).toBe(320);
    expect(metrics.map((metric) => metric.descriptor.name)).toEqual(
      expect.arrayContaining([
        'gen_ai.client.token.usage',
        'gen_ai.client.operation.duration',
        'baton.cost',
        'baton.runs.finished',
      ]),
    );
    await metering.shutdown();
    await tracing.shutdown();
  });

  it('is silent when nothing is configured, and exports over OTLP/HTTP when an endpoint is', async () => {
    expect(await openTelemetry(undefined, {})).toBeUndefined();
    expect(
      await openTelemetry({ otlp: { endpoint: 'http://127.0.0.1:1' } }, { OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();

    // A local collector: it records what reaches the OTLP paths.
    const received: { path: string; type: string; bytes: number }[] = [];
    const collector = createServer((request, response) => {
      let bytes = 0;
      request.on('data', (chunk: Buffer) => (bytes += chunk.length));
      request.on('end', () => {
        received.push({ path: request.url ?? '', type: request.headers['content-type'] ?? '', bytes });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    try {
      const { flow } = setup();
      const h = await harness({
        workflows: [flow],
        telemetry: { otlp: { endpoint: `http://127.0.0.1:${port}` }, serviceName: 'baton-test' },
      });
      const run = await h.baton.start(flow, {});
      await h.settle(run.runId, 'waiting');
      await h.close(); // flushes the exporters
      const paths = received.map((entry) => entry.path);
      expect(paths).toContain('/v1/traces');
      expect(paths).toContain('/v1/metrics');
      expect(received.every((entry) => entry.bytes > 0)).toBe(true);
    } finally {
      collector.close();
    }
  });
});
