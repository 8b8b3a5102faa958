import type {
  InterceptorContext,
  ModelCallInfo,
  ModelCallInterceptor,
  ModelVerdict,
  ParkOutcome,
  ToolCallInfo,
  ToolCallInterceptor,
  ToolVerdict,
} from '../agents/interceptors.ts';
import type { JournalMessage } from '../agents/messages.ts';
import { journalArgs } from '../agents/tool-call.ts';
import { InvalidArgumentError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { EventDraft, JournalEventPayloads, VerdictRecord } from '../journal/events.ts';
import {
  approvalDecided,
  approvalIdOf,
  approvalIdOfSignal,
  approvalRequested,
  approvalSignal,
  checkAssignment,
  finalDeadline,
  planStages,
  type ApproverAssignment,
} from '../approvals/approval-assignment.ts';
import type { GuardCore } from './guard-core.ts';
import type { RunGuardState } from './guard-state.ts';

export const LOOP_INTERCEPTOR = 'guard.loop';

/**
 * Loop detection (`guard.loops`): an agent that makes the same tool call (same tool, same
 * arguments) `times` times within its last `window` calls, or whose last `turns` turns added
 * nothing new (only tool results it had seen, or replies it gave before), is stopped (LoopDetectedError)
 * or, with `onLoop: { escalate }`, a person decides whether it may go on.
 */
export interface LoopOptions {
  /** Default `{ times: 3, window: 10 }`; false turns it off. */
  repeatedToolCall?: { times?: number; window?: number } | false;
  /** Default `{ turns: 3 }`; false turns it off. */
  noProgress?: { turns?: number } | false;
  /** Default `stop`. */
  onLoop?: 'stop' | { escalate: ApproverAssignment };
}

type Loop = JournalEventPayloads['loop.detected'];

/** Checks loop options at the door. */
export function checkLoopOptions(options: LoopOptions, core: Pick<GuardCore, 'groups'>): void {
  const positive = (value: unknown, where: string): void => {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
      throw new InvalidArgumentError(
        `guard.loops.${where} must be an integer ≥ 1, got ${JSON.stringify(value)}.`,
      );
    }
  };
  if (options.repeatedToolCall) {
    positive(options.repeatedToolCall.times, 'repeatedToolCall.times');
    positive(options.repeatedToolCall.window, 'repeatedToolCall.window');
  }
  if (options.noProgress) positive(options.noProgress.turns, 'noProgress.turns');
  const onLoop = options.onLoop;
  if (onLoop !== undefined && onLoop !== 'stop') {
    if (typeof onLoop !== 'object' || onLoop === null || !('escalate' in onLoop)) {
      throw new InvalidArgumentError(`guard.loops.onLoop is 'stop' or { escalate: { approvers, timeout } }.`);
    }
    checkAssignment(onLoop.escalate, core.groups, 'guard.loops.onLoop.escalate');
  }
}

/** The loop detection interceptors (see {@link LoopOptions}). Their state rebuilds on replay from `after`. */
export function loopInterceptors(
  core: GuardCore,
  options: LoopOptions,
): { model: ModelCallInterceptor; tool: ToolCallInterceptor } {
  const repeated =
    options.repeatedToolCall === false
      ? undefined
      : { times: options.repeatedToolCall?.times ?? 3, window: options.repeatedToolCall?.window ?? 10 };
  const noProgress = options.noProgress === false ? undefined : { turns: options.noProgress?.turns ?? 3 };
  const escalate =
    options.onLoop !== undefined && options.onLoop !== 'stop' ? options.onLoop.escalate : undefined;

  const decided = (op: number, decision: ParkOutcome): EventDraft[] => [
    approvalDecided(op, 'loop.continue', approvalIdOfSignal(decision.signal), decision),
  ];

  const tool: ToolCallInterceptor = {
    name: LOOP_INTERCEPTOR,
    before(call: ToolCallInfo, context): ToolVerdict | undefined {
      if (!repeated) return undefined;
      const state = core.states.of(context.runId, core.clock());
      const agent = call.agent ?? '';
      const signature = signatureOf(call);
      const recent = (state.toolCalls.get(agent) ?? []).slice(-(repeated.window - 1));
      const same = recent.filter((entry) => entry.signature === signature);
      if (same.length + 1 < repeated.times) return undefined;
      return detected(
        core,
        escalate,
        call,
        agent,
        {
          kind: 'repeated-tool-call',
          reason: `it called ${call.tool.name} with the same arguments ${same.length + 1} times within its last ${repeated.window} tool calls`,
          evidence: {
            tool: call.tool.name,
            args: journalArgs(call.tool, call.args) ?? null,
            times: same.length + 1,
            window: repeated.window,
            ops: [...same.map((entry) => entry.op), call.op],
          },
        },
        context,
      );
    },
    after(call, _outcome, context) {
      const state = core.states.of(context.runId, core.clock());
      const agent = call.agent ?? '';
      const signature = signatureOf(call);
      let history = state.toolCalls.get(agent) ?? [];
      // A person let it go on: counting starts again for this call.
      if (learn(state, agent, context.verdicts) === 'allowed')
        history = history.filter((entry) => entry.signature !== signature);
      history.push({ signature, op: call.op });
      state.toolCalls.set(agent, history);
    },
    decided: (call, decision) => decided(call.op, decision),
  };

  const model: ModelCallInterceptor = {
    name: LOOP_INTERCEPTOR,
    before(call: ModelCallInfo, context): ModelVerdict | undefined {
      const state = core.states.of(context.runId, core.clock());
      const stop = state.stopped.get(call.agent);
      if (
        stop?.interceptor === LOOP_INTERCEPTOR ||
        stop?.interceptor.startsWith('signal:baton.approval:loop-')
      ) {
        return { type: 'deny', reason: stop.reason, data: stop.data };
      }
      if (!noProgress) return undefined;
      const stalled = stalledTurns(call.messages, state.progressAccepted.get(call.agent) ?? 0);
      if (stalled.length < noProgress.turns) return undefined;
      return detected(
        core,
        escalate,
        call,
        call.agent,
        {
          kind: 'no-progress',
          reason: `its last ${stalled.length} turns added nothing new (the same replies, or tool results it had already seen)`,
          evidence: { turns: stalled },
        },
        context,
      );
    },
    after(call, _response, context) {
      const state = core.states.of(context.runId, core.clock());
      if (learn(state, call.agent, context.verdicts) === 'allowed') {
        state.progressAccepted.set(
          call.agent,
          call.messages.filter((message) => message.role === 'assistant').length,
        );
      }
    },
    decided: (call, decision) => decided(call.op, decision),
  };
  return { model, tool };
}

function signatureOf(call: ToolCallInfo): string {
  return `${call.tool.name} ${canonicalJson(call.args ?? null, 'Tool arguments')}`;
}

/**
 * The trailing turns of a conversation that added nothing new: a turn is the model's reply and the
 * tool results that answer it; it is new when one of its results was not seen before, or, for a
 * reply with no tool calls, when the reply (ignoring call ids) was not given before. Only replies
 * after the first `after` count.
 */
export function stalledTurns(
  messages: readonly JournalMessage[],
  after: number,
): { turn: number; reply: string }[] {
  const replies = new Set<string>();
  const results = new Set<string>();
  const stalled: { turn: number; reply: string }[] = [];
  let turn = 0;
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]!;
    if (message.role !== 'assistant') continue;
    turn++;
    const reply = replyKey(message);
    const outputs: string[] = [];
    for (let next = index + 1; next < messages.length && messages[next]!.role === 'tool'; next++) {
      for (const part of messages[next]!.content as { type: string; output?: unknown }[]) {
        if (part.type === 'tool-result') outputs.push(canonicalJson(part.output ?? null, 'A tool result'));
      }
    }
    // With tool results, a turn is new when one of them is; without, when its reply is.
    const isNew = outputs.length > 0 ? outputs.some((output) => !results.has(output)) : !replies.has(reply);
    replies.add(reply);
    for (const output of outputs) results.add(output);
    if (turn <= after) continue;
    if (isNew) stalled.length = 0;
    else stalled.push({ turn, reply: reply.slice(0, 200) });
  }
  return stalled;
}

function replyKey(message: JournalMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  return canonicalJson(
    (content as { type: string; text?: string; toolName?: string; input?: unknown }[])
      .filter((part) => part.type === 'text' || part.type === 'tool-call')
      .map((part) =>
        part.type === 'text'
          ? { text: part.text ?? '' }
          : { tool: part.toolName ?? '', input: part.input ?? null },
      ),
    'A reply',
  );
}

/** A loop found: journaled, and the call denied (or parked for a person with `onLoop: { escalate }`). */
function detected(
  core: GuardCore,
  escalate: ApproverAssignment | undefined,
  call: { op: number; actor: string; onBehalfOf: readonly string[] },
  agent: string,
  loop: Omit<Loop, 'op' | 'name' | 'action'>,
  context: InterceptorContext,
) {
  const action = escalate ? 'escalate' : 'stop';
  const event: EventDraft<'loop.detected'> = {
    type: 'loop.detected',
    payload: { op: call.op, name: agent, ...loop, action },
    actor: call.actor,
    onBehalfOf: [...call.onBehalfOf],
  };
  const data = { loop: { kind: loop.kind, reason: loop.reason, evidence: loop.evidence } };
  if (!escalate) return { type: 'deny' as const, reason: loop.reason, data, events: [event] };
  const stages = planStages(escalate, core.groups, core.clock(), 'guard.loops.onLoop.escalate');
  const deadline = finalDeadline(stages);
  return {
    type: 'park' as const,
    reason: loop.reason,
    signal: approvalSignal(approvalIdOf('loop', call.op)),
    ...(deadline === undefined ? {} : { deadline }),
    data,
    events: [
      event,
      approvalRequested({
        op: call.op,
        name: 'loop.continue',
        kind: 'loop',
        summary: `Agent '${agent}' seems to be going round in circles: ${loop.reason}. Let it go on?`,
        data: { kind: loop.kind, evidence: loop.evidence },
        requestedBy: context.principal,
        stages,
        actor: call.actor,
        onBehalfOf: [...call.onBehalfOf],
      }),
    ],
  };
}

/** What the call's verdicts say: a stop to remember, or a person's leave to go on. */
function learn(
  state: RunGuardState,
  agent: string,
  verdicts: readonly VerdictRecord[] | undefined,
): 'allowed' | undefined {
  const mine = verdicts?.find(
    (verdict) =>
      verdict.interceptor === LOOP_INTERCEPTOR && (verdict.verdict === 'deny' || verdict.verdict === 'park'),
  );
  if (!mine) return undefined;
  if (mine.verdict === 'deny') {
    state.stopped.set(agent, {
      interceptor: LOOP_INTERCEPTOR,
      reason: mine.reason ?? 'loop detected',
      data: mine.data ?? {},
    });
    return undefined;
  }
  const decision = verdicts!.find((verdict) => verdict.phase === 'decided');
  if (decision?.verdict === 'deny') {
    state.stopped.set(agent, {
      interceptor: decision.interceptor,
      reason: decision.reason ?? 'not allowed to go on',
      data: { ...(decision.data ?? {}), ...(mine.data ?? {}) },
    });
    return undefined;
  }
  return decision ? 'allowed' : undefined;
}
