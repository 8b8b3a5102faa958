import { createHash } from 'node:crypto';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import type { JournalEvent } from '../journal/events.ts';
import { RunModelBuilder, type RunModelTouch } from '../journal/run-model/derive-run-model.ts';
import { lazyModule } from '../lazy-module.ts';
import type { JournalWrite } from '../store/store.ts';

/** Loaded when the first span is made: a program that exports no telemetry never loads it. */
const otel = lazyModule<typeof import('@opentelemetry/api')>('@opentelemetry/api');

/** W3C trace flags: sampled. */
const SAMPLED = 1;

interface OpenSpan {
  span: Span;
  context: Context;
  name: string;
}

/** What this process knows of one run while it journals it. */
interface RunSpans {
  run: OpenSpan;
  workflow: string;
  /** The run model of the events journaled here: which agent each model and tool call belongs to. */
  model: RunModelBuilder;
  /** Agents whose loop is open, by the run model's agent key. */
  agents: Map<string, OpenSpan>;
  /** Tool calls whose span was made (a denied call ends before its result), by call key. */
  toolsDone: Set<string>;
  /** Time of the last event journaled here: where a step that carries no start time began. */
  lastAt: string;
}

/**
 * OpenTelemetry spans derived from journal events as they are committed (the committer's
 * `onCommitted` hook): replays write nothing, so they never repeat a span. Spans follow the GenAI
 * semantic conventions — `invoke_agent {agent}`, `chat {model}`, `execute_tool {tool}` with
 * `gen_ai.*` attributes — plus `run {workflow}` and `step {name}`, and Baton's own attributes
 * (`baton.run.id`, `baton.seq`, `baton.op`, `baton.actor`, `baton.on_behalf_of`, `baton.decision`,
 * `baton.cost_usd`).
 *
 * All activations of a run share one trace: its id is derived from the run id (under a remote
 * parent that is not exported), so a run resumed by another worker joins the same trace. A `run`
 * span covers one activation; it ends when the run finishes, parks or is released. Times come from
 * the journal (a model or tool call's latency gives its start; a step, which journals no start
 * time, starts at the run's previous event).
 */
export class JournalSpans {
  readonly #tracer: Tracer;
  readonly #runs = new Map<string, RunSpans>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /** Runs with an open activation span in this process. */
  get openRuns(): number {
    return this.#runs.size;
  }

  record(writes: readonly JournalWrite[]): void {
    for (const write of writes) {
      for (const event of write.events) this.#event(event);
      const status = write.transition?.status;
      if (status === 'waiting' || status === 'pending')
        this.#endRun(write.runId, { 'baton.run.status': status === 'waiting' ? 'waiting' : 'released' });
    }
  }

  /**
   * An activation of the run begins in this process (before its first write): its `run` span
   * starts now rather than at its first journaled event.
   */
  activate(runId: string, workflow: string, at: number): void {
    if (!this.#runs.has(runId)) this.#open(runId, workflow, at);
  }

  /** Ends every open span (the process is stopping). */
  close(): void {
    for (const runId of [...this.#runs.keys()]) this.#endRun(runId, { 'baton.run.status': 'released' });
  }

  #event(event: JournalEvent): void {
    const run = this.#run(event);
    const touch = run.model.add(event);
    const at = new Date(event.at);
    switch (event.type) {
      case 'agent.started':
        this.#agentStarted(run, event, touch, at);
        break;
      case 'agent.completed':
      case 'agent.failed':
      case 'agent.handedOff':
        this.#agentEnded(run, event, touch, at);
        break;
      case 'llm.called':
        this.#modelCalled(run, event, touch, at);
        break;
      case 'llm.failed':
        this.#modelFailed(run, event, touch, at);
        break;
      case 'tool.verdict':
      case 'tool.authorized':
      case 'tool.called':
      case 'tool.failed':
      case 'tool.resolved':
        this.#toolEnded(run, event, touch, at);
        break;
      case 'step.completed':
      case 'step.failed':
        this.#stepEnded(run, event, at);
        break;
      case 'route.decided':
        this.#routeDecided(run, event, at);
        break;
      case 'run.completed':
      case 'run.failed':
      case 'run.cancelled':
        this.#runEnded(run, event, at);
        return;
    }
    run.lastAt = event.at;
  }

  /** An agent's `invoke_agent` span opens (under the agent that called it as a tool, or the run). */
  #agentStarted(run: RunSpans, event: JournalEvent<'agent.started'>, touch: RunModelTouch, at: Date): void {
    const payload = event.payload;
    const [provider, model] = splitModel(payload.model);
    const parent =
      payload.via === 'tool' ? (this.#agentSpan(run, touch.agent?.parent?.agent) ?? run.run) : run.run;
    const span = this.#tracer.startSpan(
      `invoke_agent ${payload.name}`,
      {
        kind: otel().SpanKind.INTERNAL,
        startTime: at,
        attributes: {
          ...common(event, run),
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': payload.name,
          'gen_ai.provider.name': provider,
          'gen_ai.request.model': model,
          'baton.agent.via': payload.via,
        },
      },
      parent.context,
    );
    run.agents.set(touch.agent?.key ?? `agent:${payload.op}`, {
      span,
      context: otel().trace.setSpan(parent.context, span),
      name: payload.name,
    });
  }

  /** An agent's span ends: answered, failed or handed off. */
  #agentEnded(
    run: RunSpans,
    event: JournalEvent<'agent.completed' | 'agent.failed' | 'agent.handedOff'>,
    touch: RunModelTouch,
    at: Date,
  ): void {
    const payload = event.payload;
    const key = touch.agent?.key ?? `agent:${payload.op}`;
    const open = run.agents.get(key);
    if (!open) return;
    run.agents.delete(key);
    const attributes: Attributes = { 'baton.seq': event.seq, 'baton.agent.turns': payload.turns };
    if (event.type === 'agent.completed') {
      const done = event.payload;
      Object.assign(attributes, {
        'gen_ai.usage.input_tokens': done.usage.inputTokens,
        'gen_ai.usage.output_tokens': done.usage.outputTokens,
        'baton.cost_usd': done.costUsd,
        'baton.decision': 'answer',
      });
    } else if (event.type === 'agent.handedOff') {
      attributes['baton.decision'] = `handoff:${event.payload.to}`;
    } else {
      const error = event.payload.error;
      open.span.setStatus({
        code: otel().SpanStatusCode.ERROR,
        message: `${error.name}: ${error.message}`,
      });
      attributes['error.type'] = error.code ?? error.name;
    }
    open.span.setAttributes(attributes);
    open.span.end(at);
  }

  /** A model call's `chat` span, from its recorded latency to its end. */
  #modelCalled(run: RunSpans, event: JournalEvent<'llm.called'>, touch: RunModelTouch, at: Date): void {
    const payload = event.payload;
    const parent = this.#agentSpan(run, touch.turn?.agent) ?? run.run;
    const parameters = payload.request.parameters ?? {};
    const span = this.#tracer.startSpan(
      `chat ${payload.model}`,
      {
        kind: otel().SpanKind.CLIENT,
        startTime: new Date(at.getTime() - payload.latencyMs),
        attributes: {
          ...common(event, run),
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': payload.provider,
          'gen_ai.request.model': payload.model,
          'gen_ai.response.model': payload.response.modelId ?? payload.model,
          'gen_ai.response.finish_reasons': [payload.response.finishReason],
          'gen_ai.usage.input_tokens': payload.usage.inputTokens,
          'gen_ai.usage.output_tokens': payload.usage.outputTokens,
          'gen_ai.agent.name': payload.name,
          ...(payload.response.id === undefined ? {} : { 'gen_ai.response.id': payload.response.id }),
          ...numeric('gen_ai.request.temperature', parameters.temperature),
          ...numeric('gen_ai.request.max_tokens', parameters.maxOutputTokens),
          ...numeric('gen_ai.request.top_p', parameters.topP),
          ...numeric('gen_ai.request.top_k', parameters.topK),
          ...numeric('gen_ai.request.seed', parameters.seed),
          'baton.cost_usd': payload.cost.usd,
          'baton.turn': payload.turn,
          'baton.decision': payload.response.toolCalls.length > 0 ? 'tool-calls' : 'answer',
        },
      },
      parent.context,
    );
    span.end(at);
  }

  /** A failed model call's `chat` span. */
  #modelFailed(run: RunSpans, event: JournalEvent<'llm.failed'>, touch: RunModelTouch, at: Date): void {
    const payload = event.payload;
    const parent = this.#agentSpan(run, touch.turn?.agent) ?? run.run;
    const span = this.#tracer.startSpan(
      `chat ${payload.name}`,
      {
        kind: otel().SpanKind.CLIENT,
        startTime: at,
        attributes: {
          ...common(event, run),
          'gen_ai.operation.name': 'chat',
          'gen_ai.agent.name': payload.name,
          'error.type': payload.error.code ?? payload.error.name,
        },
      },
      parent.context,
    );
    span.setStatus({ code: otel().SpanStatusCode.ERROR, message: payload.error.message });
    span.end(at);
  }

  /** A step's span, from the run's previous event to its end. */
  #stepEnded(run: RunSpans, event: JournalEvent<'step.completed' | 'step.failed'>, at: Date): void {
    const payload = event.payload as {
      name: string;
      attempt: number;
      error?: { name: string; message: string; code?: string };
    };
    const span = this.#tracer.startSpan(
      `step ${payload.name}`,
      {
        kind: otel().SpanKind.INTERNAL,
        startTime: new Date(run.lastAt),
        attributes: {
          ...common(event, run),
          'baton.step.name': payload.name,
          'baton.step.attempt': payload.attempt,
        },
      },
      run.run.context,
    );
    if (payload.error) {
      span.setStatus({
        code: otel().SpanStatusCode.ERROR,
        message: `${payload.error.name}: ${payload.error.message}`,
      });
      span.setAttribute('error.type', payload.error.code ?? payload.error.name);
    }
    span.end(at);
  }

  /** A routing decision's span. */
  #routeDecided(run: RunSpans, event: JournalEvent<'route.decided'>, at: Date): void {
    const payload = event.payload;
    const span = this.#tracer.startSpan(
      `route ${payload.name}`,
      {
        kind: otel().SpanKind.INTERNAL,
        startTime: at,
        attributes: {
          ...common(event, run),
          'baton.decision': payload.chosen,
          'baton.route.candidates': payload.candidates.map((candidate) => candidate.name),
        },
      },
      run.run.context,
    );
    span.end(at);
  }

  /** The run ended: its span ends with its status. */
  #runEnded(
    run: RunSpans,
    event: JournalEvent<'run.completed' | 'run.failed' | 'run.cancelled'>,
    at: Date,
  ): void {
    if (event.type === 'run.failed') {
      const error = event.payload.error;
      run.run.span.setStatus({
        code: otel().SpanStatusCode.ERROR,
        message: `${error.name}: ${error.message}`,
      });
      run.run.span.setAttribute('error.type', error.code ?? error.name);
    }
    run.run.span.setAttribute('baton.seq', event.seq);
    this.#endRun(event.runId, { 'baton.run.status': event.type.slice('run.'.length) }, at);
  }

  /** A tool call's span, once the run model says it ended (done, failed, denied or skipped). */
  #toolEnded(run: RunSpans, event: JournalEvent, touch: RunModelTouch, at: Date): void {
    const call = touch.call;
    if (!call || call.endSeq !== event.seq || run.toolsDone.has(call.key)) return;
    run.toolsDone.add(call.key);
    const parent = this.#agentSpan(run, call.agent) ?? run.run;
    const start =
      call.latencyMs === undefined
        ? Date.parse(call.at)
        : Math.min(Date.parse(call.at), at.getTime() - call.latencyMs);
    const span = this.#tracer.startSpan(
      `execute_tool ${call.name}`,
      {
        kind: otel().SpanKind.INTERNAL,
        startTime: new Date(start),
        attributes: {
          ...common(event, run),
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': call.name,
          'gen_ai.tool.call.id': call.callId,
          'gen_ai.tool.type': 'function',
          ...(call.agentName === undefined ? {} : { 'gen_ai.agent.name': call.agentName }),
          'baton.decision': call.state === 'denied' ? 'deny' : 'allow',
          'baton.tool.effect': call.effect ?? 'unknown',
        },
      },
      parent.context,
    );
    if (event.type === 'tool.failed') {
      const error = event.payload.error;
      span.setStatus({ code: otel().SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
      span.setAttribute('error.type', error.code ?? error.name);
    }
    span.end(at);
  }

  #agentSpan(run: RunSpans, key: string | undefined): OpenSpan | undefined {
    return key === undefined ? undefined : run.agents.get(key);
  }

  #run(event: JournalEvent): RunSpans {
    const run = this.#runs.get(event.runId);
    if (run) return run;
    const latency = (event.payload as { latencyMs?: unknown }).latencyMs;
    return this.#open(
      event.runId,
      workflowOf(event),
      Date.parse(event.at) - (typeof latency === 'number' ? latency : 0),
    );
  }

  #open(runId: string, workflow: string, start: number): RunSpans {
    const parent = otel().trace.setSpanContext(otel().ROOT_CONTEXT, runTraceContext(runId));
    const span = this.#tracer.startSpan(
      `run ${workflow}`,
      {
        kind: otel().SpanKind.INTERNAL,
        startTime: new Date(start),
        attributes: { 'baton.run.id': runId, 'baton.workflow': workflow },
      },
      parent,
    );
    const run: RunSpans = {
      run: { span, context: otel().trace.setSpan(parent, span), name: workflow },
      workflow,
      model: new RunModelBuilder(runId),
      agents: new Map(),
      toolsDone: new Set(),
      lastAt: new Date(start).toISOString(),
    };
    this.#runs.set(runId, run);
    return run;
  }

  #endRun(runId: string, attributes: Attributes, at?: Date): void {
    const run = this.#runs.get(runId);
    if (!run) return;
    this.#runs.delete(runId);
    const end = at ?? new Date(run.lastAt);
    for (const agent of run.agents.values()) {
      agent.span.setAttribute('baton.suspended', true);
      agent.span.end(end);
    }
    run.run.span.setAttributes(attributes);
    run.run.span.end(end);
  }
}

/** The trace every activation of a run joins: ids derived from the run id, under a remote parent. */
export function runTraceContext(runId: string): {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote: true;
} {
  const digest = createHash('sha256').update(`baton.run:${runId}`).digest('hex');
  return {
    traceId: digest.slice(0, 32),
    spanId: digest.slice(32, 48),
    traceFlags: SAMPLED,
    isRemote: true,
  };
}

function common(event: JournalEvent, run: RunSpans): Attributes {
  const op = (event.payload as { op?: unknown }).op;
  return {
    'baton.run.id': event.runId,
    'baton.workflow': run.workflow,
    'baton.seq': event.seq,
    ...(typeof op === 'number' ? { 'baton.op': op } : {}),
    'baton.actor': event.actor,
    'baton.on_behalf_of': [...event.onBehalfOf],
  };
}

function workflowOf(event: JournalEvent): string {
  const workflow = [event.actor, ...event.onBehalfOf].find((identity) => identity.startsWith('workflow:'));
  return workflow?.slice('workflow:'.length) ?? 'run';
}

function splitModel(model: string): [string, string] {
  const colon = model.indexOf(':');
  return colon < 0 ? ['unknown', model] : [model.slice(0, colon), model.slice(colon + 1)];
}

function numeric(key: string, value: unknown): Attributes {
  return typeof value === 'number' ? { [key]: value } : {};
}
