import { messageHash, type JournalMessage } from '../agents/messages.ts';
import type { JournalEvent } from '../journal/events.ts';
import type { Decision, ExplanationNode, ExplanationStatus, Reason } from './explanation.ts';
import {
  brief,
  clip,
  messageReasoning,
  messageText,
  messageToolCalls,
  messageToolResults,
  summarizeMessage,
} from './message-text.ts';
import { all, first, last, took, type NodeContext } from './node-context.ts';
import { reasonsOf } from './reasons.ts';

/** An agent's loop (`agent:<name>` op): who, on what model, asked what, how it ended. Its turns are added as children. */
export function agentNode(events: readonly JournalEvent[], context: NodeContext): ExplanationNode {
  const started = first(events, 'agent.started');
  const completed = first(events, 'agent.completed');
  const failed = first(events, 'agent.failed');
  const handedOff = first(events, 'agent.handedOff');
  const name = started?.payload.name ?? String((events[0]!.payload as { name?: unknown }).name);
  const status: ExplanationStatus = completed
    ? 'ok'
    : failed
      ? 'failed'
      : handedOff
        ? 'handed-off'
        : 'waiting';
  const node = context.node('agent', `agent ${name}`, events, status);
  if (started) {
    const via =
      started.payload.via === 'run'
        ? 'run'
        : `${started.payload.via === 'tool' ? 'as a tool of' : 'handed off by'} ${started.payload.from ?? '?'}`;
    node.facts = {
      model: started.payload.model,
      via,
      tools: started.payload.tools,
      maxTurns: started.payload.maxTurns,
    };
    const system = (started.payload.messages as JournalMessage[]).find(
      (message) => (message as { role?: string }).role === 'system',
    );
    if (system) node.facts.instructions = clip(messageText(system), 400);
    const task = context.message(started.payload.task);
    if (task) node.asked = { summary: summarizeMessage(task), messages: [task] };
  }
  const end = completed ?? failed ?? handedOff;
  took(node, started, end);
  if (completed) {
    const answer = context.message(completed.payload.message);
    node.outcome = {
      summary: `answered after ${completed.payload.turns} turn(s): ${summarizeMessage(answer)}`,
      value: messageText(answer),
    };
    node.costUsd = completed.payload.costUsd;
    node.usage = { ...completed.payload.usage };
  } else if (failed) {
    node.outcome = {
      summary: `failed after ${failed.payload.turns} turn(s): ${failed.payload.error.message}`,
      error: failed.payload.error,
    };
  } else if (handedOff) {
    node.outcome = {
      summary: `handed off to ${handedOff.payload.to} after ${handedOff.payload.turns} turn(s)`,
    };
  } else {
    node.outcome = { summary: 'still running (the journal ends inside this agent)' };
  }
  const why = reasonsOf(events);
  if (why.length > 0) node.why = why;
  return node;
}

/** What a turn's node needs to know of the turns before it in the same agent. */
export interface TurnMemory {
  /** Hashes of every message the agent's earlier requests and replies held. */
  seen: Set<string>;
  /** The agent's handoff, to tell a handoff call from a tool call. */
  handoff?: { callId: string; to: string };
}

/** One model call (`llm:<agent>` op): what was new in the request, what the model decided and said, cost and time. */
export function turnNode(
  events: readonly JournalEvent[],
  context: NodeContext,
  memory: TurnMemory,
): ExplanationNode {
  const called = first(events, 'llm.called');
  const failed = first(events, 'llm.failed');
  const denied = all(events, 'llm.verdict').find((verdict) => verdict.payload.verdict === 'deny');
  const inFlight = called || failed || denied ? undefined : startedAttempt(events, 'llm');
  const status: ExplanationStatus = called
    ? 'ok'
    : failed
      ? 'failed'
      : denied
        ? 'denied'
        : inFlight
          ? 'running'
          : 'waiting';
  const turn = called?.payload.turn ?? (inFlight?.type === 'llm.started' ? inFlight.payload.turn : undefined);
  const node = context.node('turn', turn === undefined ? 'model call' : `turn ${turn}`, events, status);
  const why: Reason[] = [];
  if (called) {
    const payload = called.payload;
    node.facts = {
      model: `${payload.provider}:${payload.response.modelId ?? payload.model}`,
      finishReason: payload.response.finishReason,
      ...(payload.attempt > 1 ? { attempt: payload.attempt } : {}),
      ...(payload.request.parameters ? { parameters: payload.request.parameters } : {}),
      latencyMs: payload.latencyMs,
    };
    node.durationMs = payload.latencyMs;
    node.costUsd = payload.cost.usd;
    node.usage = { inputTokens: payload.usage.inputTokens, outputTokens: payload.usage.outputTokens };
    const request = context.request(called);
    const reply = (payload.messages as JournalMessage[]).at(-1);
    if (request) {
      const fresh = request.filter(
        (message) =>
          !memory.seen.has(messageHash(message)) && (message as { role?: string }).role !== 'system',
      );
      node.asked = {
        summary: fresh.map((message) => summarizeMessage(message, 160)).join(' · ') || '(nothing new)',
        messages: fresh,
      };
      for (const message of request) memory.seen.add(messageHash(message));
    } else {
      node.asked = { summary: `${payload.request.append.length} message(s) (not all in this journal)` };
    }
    if (reply) {
      memory.seen.add(messageHash(reply));
      node.decided = decisionOf(reply, memory.handoff);
      const reasoning = messageReasoning(reply);
      if (reasoning) why.push({ kind: 'reasoning', summary: clip(reasoning, 600) });
      const said = messageText(reply);
      if (said && node.decided.kind !== 'answer') why.push({ kind: 'said', summary: clip(said, 600) });
    }
  }
  why.push(...reasonsOf(events));
  if (why.length > 0) node.why = why;
  if (failed)
    node.outcome = {
      summary: `the model call failed after ${failed.payload.attempt} attempt(s): ${failed.payload.error.message}`,
      error: failed.payload.error,
    };
  else if (denied)
    node.outcome = {
      summary:
        `the model call was denied by ${denied.payload.interceptor}: ${denied.payload.reason ?? ''}`.trimEnd(),
    };
  else if (inFlight?.type === 'llm.started')
    node.outcome = {
      summary: `running: attempt ${inFlight.payload.attempt} sent to ${inFlight.payload.provider}:${inFlight.payload.model} at ${inFlight.at}, no reply journaled yet`,
    };
  else if (!called) node.outcome = { summary: 'waiting (the journal ends before the reply)' };
  return node;
}

/**
 * The start of a call's attempt that has no outcome after it (`llm.started` or `tool.started`,
 * journaled with engine flag 3): the call is running, or was when the journal was read.
 */
function startedAttempt(
  events: readonly JournalEvent[],
  kind: 'llm' | 'tool',
): JournalEvent<'llm.started'> | JournalEvent<'tool.started'> | undefined {
  const ends = kind === 'llm' ? ['llm.attempt.failed'] : ['tool.attempt.failed', 'tool.inDoubt'];
  const start = events.findLast((event) => event.type === `${kind}.started`) as
    JournalEvent<'llm.started'> | JournalEvent<'tool.started'> | undefined;
  if (!start) return undefined;
  const after = events.filter((event) => event.seq > start.seq);
  return after.some((event) => ends.includes(event.type)) ? undefined : start;
}

function decisionOf(reply: JournalMessage, handoff: TurnMemory['handoff']): Decision {
  const calls = messageToolCalls(reply);
  const handing = calls.find(
    (call) => call.callId === handoff?.callId || call.name.startsWith('transfer_to_'),
  );
  if (handing) {
    const to = handoff?.callId === handing.callId ? handoff.to : handing.name.slice('transfer_to_'.length);
    const reason = (handing.args as { reason?: unknown } | undefined)?.reason;
    return {
      kind: 'handoff',
      summary: `hand off to ${to}${typeof reason === 'string' ? ` (${reason})` : ''}`,
      to,
      ...(typeof reason === 'string' ? { reason } : {}),
    };
  }
  if (calls.length > 0) {
    return {
      kind: 'tool-calls',
      summary: calls.map((call) => `call ${call.name} ${brief(call.args, 120)}`).join('; '),
      calls,
    };
  }
  const text = messageText(reply);
  return { kind: 'answer', summary: `answer: ${clip(text, 300)}`, text };
}

/** One tool call (`tool:<name>` op): its arguments, the verdicts and policy decision before it ran, what came back. */
export function toolNode(events: readonly JournalEvent[], context: NodeContext): ExplanationNode {
  const requested = first(events, 'tool.requested');
  const called = last(events, 'tool.called');
  const failed = last(events, 'tool.failed');
  const resolved = last(events, 'tool.resolved');
  const decisive = [...all(events, 'tool.verdict'), ...all(events, 'tool.authorized')];
  const denied =
    !called &&
    !failed &&
    decisive.some((event) => {
      const payload = event.payload as { verdict?: string; decision?: string };
      return payload.verdict === 'deny' || payload.decision === 'deny';
    });
  const parked =
    all(events, 'tool.verdict').some((event) => event.payload.verdict === 'park') ||
    all(events, 'tool.inDoubt').some((event) => event.payload.resolution === 'park');
  const skipped = resolved?.payload.action === 'skip';
  const inFlight = called || failed || denied || skipped ? undefined : startedAttempt(events, 'tool');
  const status: ExplanationStatus = called
    ? 'ok'
    : failed
      ? 'failed'
      : denied
        ? 'denied'
        : skipped
          ? 'skipped'
          : inFlight
            ? 'running'
            : 'waiting';
  const name = requested?.payload.name ?? String((events[0]!.payload as { name?: unknown }).name);
  const node = context.node('tool', `tool ${name}`, events, status);
  if (requested) {
    node.facts = {
      effect: requested.payload.effect,
      ...(requested.payload.idempotent ? { idempotent: true } : {}),
      callId: requested.payload.callId,
      args: requested.payload.args,
    };
    node.decided = { kind: 'other', summary: `${name} ${brief(requested.payload.args, 300)}` };
  }
  const why = reasonsOf(events);
  if (why.length > 0) node.why = why;
  const message = ((called ?? failed ?? resolved)?.payload as { messages?: JournalMessage[] } | undefined)
    ?.messages?.[0];
  const result = messageToolResults(message)[0];
  if (called) {
    node.durationMs = called.payload.latencyMs;
    node.outcome = { summary: `→ ${brief(result?.value, 300)}`, value: result?.value };
  } else if (failed) {
    node.outcome = {
      summary: `failed: ${failed.payload.error.name}: ${failed.payload.error.message}`,
      error: failed.payload.error,
    };
  } else if (skipped) {
    node.outcome = {
      summary: `not run again; the model was told: ${brief(result?.value, 200)}`,
      value: result?.value,
    };
  } else if (denied) {
    node.outcome = { summary: 'denied: it did not run' };
  } else if (inFlight) {
    node.outcome = {
      summary: `running: attempt ${inFlight.payload.attempt} started at ${inFlight.at}, no result journaled yet`,
    };
  } else {
    node.outcome = {
      summary: parked ? 'waiting for a person' : 'waiting (the journal ends before its result)',
    };
  }
  return node;
}
