import { messageStore, requestMessages, type JournalMessage } from '../agents/messages.ts';
import { eventOp, type JournalEvent } from '../journal/events.ts';

/**
 * Everything about the step an event belongs to, for the step inspector: the events of its op,
 * and — by kind — the full prompt and response of a model call, a tool call's arguments (as the
 * model gave them and as they ran) and result, the identity chain, the authorization decisions,
 * guardrail and approval verdicts, tokens, cost and time.
 */
export interface StepDetail {
  seq: number;
  type: string;
  kind: 'model' | 'tool' | 'agent' | 'step' | 'graph' | 'run' | 'other';
  name?: string;
  op?: number;
  /** The events of the same op (or the event alone), in order. */
  events: JournalEvent[];
  identity: { actor: string; onBehalfOf: string[]; chain: string };
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  status: 'running' | 'waiting' | 'completed' | 'failed' | 'denied';
  model?: {
    provider: string;
    model: string;
    turn: number;
    request: JournalMessage[];
    response: JournalMessage | undefined;
    tools: string[];
    parameters?: Record<string, unknown>;
    finishReason: string;
  };
  tool?: {
    callId: string;
    effect: string;
    /** As the model asked. */
    args: unknown;
    /** As it ran, when an interceptor or an approver changed them. */
    finalArgs?: unknown;
    result?: unknown;
    error?: string;
    attempts: number;
  };
  agent?: {
    task: JournalMessage | undefined;
    system: JournalMessage | undefined;
    answer: JournalMessage | undefined;
    turns?: number;
  };
  decisions: Record<string, unknown>[];
  verdicts: Record<string, unknown>[];
  /** The guard's approval events of this step (asked, escalated, decided). */
  approvals: Record<string, unknown>[];
  usage?: { inputTokens: number; outputTokens: number };
  costUsd?: number;
  error?: unknown;
  result?: unknown;
}

const TERMINAL_TYPES = new Set([
  'step.completed',
  'step.failed',
  'tool.called',
  'tool.failed',
  'tool.resolved',
  'agent.completed',
  'agent.failed',
  'agent.handedOff',
  'llm.called',
  'llm.failed',
  'graph.node.completed',
  'graph.node.failed',
  'graph.node.skipped',
  'graph.completed',
  'graph.failed',
  'child.completed',
  'child.failed',
  'timer.fired',
  'signal.received',
  'signal.timedOut',
]);

/** The detail of the step holding event `seq`, or undefined when the journal has no such event. */
export function stepDetail(events: readonly JournalEvent[], seq: number): StepDetail | undefined {
  const event = events.find((candidate) => candidate.seq === seq);
  if (!event) return undefined;
  const op = eventOp(event);
  const payload = event.payload as unknown as Record<string, unknown>;
  const callId = typeof payload.callId === 'string' ? payload.callId : undefined;
  // Events of the same op; for a model call, only that call (an agent's op holds its whole loop's agent.* events).
  let related = op === undefined ? [event] : events.filter((candidate) => eventOp(candidate) === op);
  if (event.type.startsWith('llm.'))
    related = [
      event,
      ...related.filter((candidate) => candidate.type === 'llm.verdict' && candidate.seq <= event.seq),
    ];
  if (callId !== undefined && event.type.startsWith('tool.')) {
    related = related.filter(
      (candidate) =>
        (candidate.payload as { callId?: unknown }).callId === callId ||
        candidate.type === 'tool.authorized' ||
        candidate.type.startsWith('approval.') ||
        candidate.type.startsWith('guard.') ||
        candidate.type === 'budget.exceeded' ||
        candidate.type === 'loop.detected',
    );
  }
  related.sort((a, b) => a.seq - b.seq);
  const first = related[0]!;
  const last = related.at(-1)!;
  const messages = messageStore(events);
  const detail: StepDetail = {
    seq: event.seq,
    type: event.type,
    kind: kindOf(event.type),
    ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
    ...(op === undefined ? {} : { op }),
    events: related,
    identity: {
      actor: event.actor,
      onBehalfOf: [...event.onBehalfOf],
      chain: [event.actor, ...event.onBehalfOf].join(' for '),
    },
    startedAt: first.at,
    status: statusOf(related),
    decisions: related
      .filter((candidate) => candidate.type === 'tool.authorized' || candidate.type === 'access.decided')
      .map((candidate) => ({
        seq: candidate.seq,
        ...(candidate.payload as unknown as Record<string, unknown>),
      })),
    verdicts: related
      .filter((candidate) => candidate.type.endsWith('.verdict') || candidate.type.startsWith('guard.'))
      .map((candidate) => ({
        seq: candidate.seq,
        type: candidate.type,
        ...(candidate.payload as unknown as Record<string, unknown>),
      })),
    approvals: related
      .filter((candidate) => candidate.type.startsWith('approval.'))
      .map((candidate) => ({
        seq: candidate.seq,
        type: candidate.type,
        at: candidate.at,
        ...(candidate.payload as unknown as Record<string, unknown>),
      })),
  };
  if (TERMINAL_TYPES.has(last.type)) {
    detail.endedAt = last.at;
    detail.durationMs = Date.parse(last.at) - Date.parse(first.at);
  }

  if (event.type === 'llm.called') {
    const call = event;
    const own = call.payload.messages;
    let request: JournalMessage[];
    try {
      request = requestMessages(events, call);
    } catch {
      request = [];
    }
    detail.model = {
      provider: call.payload.provider,
      model: call.payload.model,
      turn: call.payload.turn,
      request,
      response: own.at(-1) as JournalMessage | undefined,
      tools: call.payload.request.tools,
      ...(call.payload.request.parameters ? { parameters: call.payload.request.parameters } : {}),
      finishReason: call.payload.response.finishReason,
    };
    detail.usage = {
      inputTokens: call.payload.usage.inputTokens,
      outputTokens: call.payload.usage.outputTokens,
    };
    detail.costUsd = call.payload.cost.usd;
    detail.durationMs = call.payload.latencyMs;
    detail.startedAt = new Date(Date.parse(call.at) - call.payload.latencyMs).toISOString();
    detail.endedAt = call.at;
  }

  const requested = related.find(
    (candidate): candidate is JournalEvent<'tool.requested'> => candidate.type === 'tool.requested',
  );
  if (requested) {
    let finalArgs: unknown;
    for (const candidate of related) {
      if (candidate.type !== 'tool.verdict') continue;
      const verdict = candidate.payload;
      if (verdict.verdict === 'rewrite' && verdict.phase !== 'after') finalArgs = verdict.args;
    }
    const outcome = related.findLast(
      (candidate) =>
        candidate.type === 'tool.called' ||
        candidate.type === 'tool.failed' ||
        candidate.type === 'tool.resolved',
    );
    const result = outcome ? toolResult(outcome) : undefined;
    const attempts =
      related.filter((candidate) => candidate.type === 'tool.retried').length + (requested ? 1 : 0);
    detail.tool = {
      callId: requested.payload.callId,
      effect: requested.payload.effect,
      args: requested.payload.args,
      ...(finalArgs === undefined ? {} : { finalArgs }),
      ...(result && 'value' in result ? { result: result.value } : {}),
      ...(result && 'error' in result ? { error: result.error } : {}),
      attempts,
    };
    const called = related.find(
      (candidate): candidate is JournalEvent<'tool.called'> => candidate.type === 'tool.called',
    );
    if (called) detail.durationMs = called.payload.latencyMs;
  }

  const started = related.find(
    (candidate): candidate is JournalEvent<'agent.started'> => candidate.type === 'agent.started',
  );
  if (started && event.type.startsWith('agent.')) {
    const completed = related.find(
      (candidate): candidate is JournalEvent<'agent.completed'> => candidate.type === 'agent.completed',
    );
    const system = started.payload.messages.find(
      (message) => (message as { role?: unknown }).role === 'system',
    ) as JournalMessage | undefined;
    detail.agent = {
      task: messages.get(started.payload.task),
      system,
      answer: completed ? messages.get(completed.payload.message) : undefined,
      ...(completed ? { turns: completed.payload.turns } : {}),
    };
    if (completed) {
      detail.usage = completed.payload.usage;
      detail.costUsd = completed.payload.costUsd;
    }
  }

  const failure = related.find((candidate) => 'error' in candidate.payload);
  if (failure) detail.error = (failure.payload as { error?: unknown }).error;
  const stepDone = related.find(
    (candidate): candidate is JournalEvent<'step.completed'> => candidate.type === 'step.completed',
  );
  if (stepDone) detail.result = stepDone.payload.result;
  return detail;
}

function kindOf(type: string): StepDetail['kind'] {
  if (type.startsWith('llm.') || type.startsWith('model.') || type.startsWith('cache.')) return 'model';
  if (type.startsWith('tool.')) return 'tool';
  if (type.startsWith('agent.')) return 'agent';
  if (type.startsWith('step.')) return 'step';
  if (type.startsWith('graph.')) return 'graph';
  if (type.startsWith('run.')) return 'run';
  return 'other';
}

function statusOf(related: readonly JournalEvent[]): StepDetail['status'] {
  const types = related.map((event) => event.type);
  if (types.some((type) => type.endsWith('.failed'))) return 'failed';
  const lastVerdict = related.findLast(
    (event) => event.type === 'tool.verdict' || event.type === 'llm.verdict',
  );
  const verdict = (lastVerdict?.payload as { verdict?: string } | undefined)?.verdict;
  if (verdict === 'deny' && !types.includes('tool.called')) return 'denied';
  if (verdict === 'park') return 'waiting';
  const last = related.at(-1)!;
  return TERMINAL_TYPES.has(last.type) ? 'completed' : 'running';
}

function toolResult(event: JournalEvent): { value: unknown } | { error: string } | undefined {
  const stored = (event.payload as { messages?: unknown[] }).messages;
  const message = stored?.[0] as
    { content?: { type: string; output?: { type: string; value?: unknown } }[] } | undefined;
  const output = message?.content?.[0]?.output;
  if (!output) {
    const error = (event.payload as { error?: { message?: string } }).error;
    return error ? { error: error.message ?? 'failed' } : undefined;
  }
  if (output.type === 'error-text' || output.type === 'error-json')
    return { error: String(typeof output.value === 'string' ? output.value : JSON.stringify(output.value)) };
  return { value: output.value };
}

/** Every model message of the journal, by hash (so a client can show any request by reference). */
export function journalMessages(events: readonly JournalEvent[]): Record<string, JournalMessage> {
  return Object.fromEntries(messageStore(events));
}
