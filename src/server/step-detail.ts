import { messageStore, requestMessages, type JournalMessage } from '../agents/messages.ts';
import { eventOp, type JournalEvent } from '../journal/events.ts';
import { deriveRunModel } from '../journal/run-model/derive-run-model.ts';
import type { AgentModel, ItemState, RunModel, ToolCallModel } from '../journal/run-model/run-model.ts';

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

/** The detail of the step holding event `seq`, or undefined when the journal has no such event. */
export function stepDetail(events: readonly JournalEvent[], seq: number): StepDetail | undefined {
  const event = events.find((candidate) => candidate.seq === seq);
  if (!event) return undefined;
  const model = deriveRunModel(events);
  const item = itemHolding(model, event);
  const held = new Set(item?.seqs ?? [event.seq]);
  const related = events.filter((candidate) => held.has(candidate.seq));
  const first = related[0] ?? event;
  const op = eventOp(event);
  const name = 'name' in event.payload ? event.payload.name : undefined;
  const detail: StepDetail = {
    seq: event.seq,
    type: event.type,
    kind: kindOf(event.type),
    ...(name === undefined ? {} : { name }),
    ...(op === undefined ? {} : { op }),
    events: related,
    identity: {
      actor: event.actor,
      onBehalfOf: [...event.onBehalfOf],
      chain: [event.actor, ...event.onBehalfOf].join(' for '),
    },
    startedAt: item?.at ?? first.at,
    status: STATUSES[item?.state ?? 'completed'],
    decisions: related.flatMap((candidate) =>
      candidate.type === 'tool.authorized' || candidate.type === 'access.decided'
        ? [{ seq: candidate.seq, ...candidate.payload }]
        : [],
    ),
    verdicts: related.flatMap((candidate) =>
      candidate.type === 'tool.verdict' ||
      candidate.type === 'llm.verdict' ||
      candidate.type === 'guard.verdict'
        ? [{ seq: candidate.seq, type: candidate.type, ...candidate.payload }]
        : [],
    ),
    approvals: related.flatMap((candidate) =>
      candidate.type === 'approval.requested' ||
      candidate.type === 'approval.escalated' ||
      candidate.type === 'approval.decided'
        ? [{ seq: candidate.seq, type: candidate.type, at: candidate.at, ...candidate.payload }]
        : [],
    ),
  };
  if (item?.endAt !== undefined) {
    detail.endedAt = item.endAt;
    detail.durationMs = Date.parse(item.endAt) - Date.parse(detail.startedAt);
  }
  if (event.type === 'llm.called') Object.assign(detail, modelDetail(events, event));
  const toolCall = op === undefined ? undefined : callOf(model, op);
  if (toolCall) detail.tool = toolDetail(toolCall, related);
  if (toolCall?.latencyMs !== undefined) detail.durationMs = toolCall.latencyMs;
  const agent = event.type.startsWith('agent.')
    ? model.agents.find((candidate) => candidate.op === op)
    : undefined;
  if (agent) Object.assign(detail, agentDetail(events, agent, related));
  const failure = related.find((candidate) => 'error' in candidate.payload);
  if (failure && 'error' in failure.payload) detail.error = failure.payload.error;
  const stepDone = related.find((candidate) => candidate.type === 'step.completed');
  if (stepDone) detail.result = stepDone.payload.result;
  return detail;
}

type Item = { seqs: number[]; state: ItemState; at: string; endAt?: string };

/**
 * The part of the run model that holds an event: a model call's turn, a tool call (with the op's
 * policy, guard and approval events), an agent's loop, or the op. A model call is its own item (an
 * agent's op holds its whole loop's agent.* events).
 */
function itemHolding(model: RunModel, event: JournalEvent): Item | undefined {
  const op = eventOp(event);
  if (op === undefined) return undefined;
  const operation = model.operations.find((candidate) => candidate.op === op);
  if (event.type.startsWith('llm.')) return model.turns.find((turn) => turn.op === op) ?? operation;
  if (event.type.startsWith('agent.')) return model.agents.find((agent) => agent.op === op) ?? operation;
  return operation;
}

function callOf(model: RunModel, op: number): ToolCallModel | undefined {
  return model.calls.find((call) => call.op === op);
}

const STATUSES: Record<ItemState, StepDetail['status']> = {
  running: 'running',
  waiting: 'waiting',
  completed: 'completed',
  'handed-off': 'completed',
  skipped: 'completed',
  failed: 'failed',
  denied: 'denied',
};

function modelDetail(events: readonly JournalEvent[], call: JournalEvent<'llm.called'>): Partial<StepDetail> {
  let request: JournalMessage[];
  try {
    request = requestMessages(events, call);
  } catch {
    request = [];
  }
  const { payload } = call;
  return {
    model: {
      provider: payload.provider,
      model: payload.model,
      turn: payload.turn,
      request,
      response: payload.messages.at(-1) as JournalMessage | undefined,
      tools: payload.request.tools,
      ...(payload.request.parameters ? { parameters: payload.request.parameters } : {}),
      finishReason: payload.response.finishReason,
    },
    usage: { inputTokens: payload.usage.inputTokens, outputTokens: payload.usage.outputTokens },
    costUsd: payload.cost.usd,
    durationMs: payload.latencyMs,
    startedAt: new Date(Date.parse(call.at) - payload.latencyMs).toISOString(),
    endedAt: call.at,
  };
}

function toolDetail(call: ToolCallModel, related: readonly JournalEvent[]): NonNullable<StepDetail['tool']> {
  const outcome = related.findLast(
    (candidate) =>
      candidate.type === 'tool.called' ||
      candidate.type === 'tool.failed' ||
      candidate.type === 'tool.resolved',
  );
  const result = outcome ? toolResult(outcome) : undefined;
  return {
    callId: call.callId,
    effect: call.effect ?? 'unknown',
    args: call.args,
    ...(call.finalArgs === undefined ? {} : { finalArgs: call.finalArgs }),
    ...(result && 'value' in result ? { result: result.value } : {}),
    ...(result && 'error' in result ? { error: result.error } : {}),
    attempts: call.attempts,
  };
}

function agentDetail(
  events: readonly JournalEvent[],
  agent: AgentModel,
  related: readonly JournalEvent[],
): Partial<StepDetail> {
  const started = related.find((candidate) => candidate.type === 'agent.started');
  if (!started) return {};
  const completed = related.find((candidate) => candidate.type === 'agent.completed');
  const messages = messageStore(events);
  const system = started.payload.messages.find(
    (message) => (message as { role?: unknown }).role === 'system',
  ) as JournalMessage | undefined;
  return {
    agent: {
      task: messages.get(started.payload.task),
      system,
      answer: completed ? messages.get(completed.payload.message) : undefined,
      ...(agent.turnCount === undefined || !completed ? {} : { turns: agent.turnCount }),
    },
    ...(agent.usage ? { usage: agent.usage } : {}),
    ...(agent.costUsd === undefined ? {} : { costUsd: agent.costUsd }),
  };
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
