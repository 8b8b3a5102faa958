import type { Grant } from '../access/grant.ts';
import type { EventDraft, VerdictRecord } from '../journal/events.ts';
import type { JournalMessage } from './messages.ts';
import type { CallCost, TokenUsage } from '../routing/prices.ts';
import type { ToolDefinition } from './tool.ts';

/**
 * The one place where the layers above plug into tool and model calls: access control (Cedar),
 * guardrails, budgets, approvals, loop detection.
 *
 * Interceptors are ordered lists, given as `Baton.open({ agents: { interceptors: { tools, models } } })`
 * or added with `baton.agents.intercept(…)`. For each call, before it runs:
 *
 *   for each interceptor in order: verdict = await before(call, context)
 *     undefined      → no opinion, next interceptor (nothing journaled)
 *     allow          → journaled, next interceptor
 *     rewrite(args)  → journaled with the new args (validated against the tool's schema), next
 *                      interceptor sees the new args (tools only)
 *     deny(reason)   → journaled; the call does not run. A denied tool call goes back to the model
 *                      as a tool error; a denied model call throws ModelCallDeniedError.
 *     park(reason)   → journaled; the call waits, holding no worker, for the signal
 *                      `verdict.signal` (default `baton.approve:<op>`), whose payload
 *                      `{ approved, reason?, args? }` (a {@link ParkDecision}) is journaled as the
 *                      final verdict. With `deadline`, no signal by then denies the call
 *                      (`by: 'system:timeout'`). The interceptor that parked may add events to
 *                      the decision's commit with `decided(call, decision, context)`.
 *
 * Verdicts are written in the same commit as the call's intent (`tool.requested`), as
 * `tool.verdict` / `llm.verdict` events, so the journal says who allowed what, and why, before it
 * ran. On replay, recorded verdicts are used and `before` is not called again.
 *
 * After a call, `after(call, outcome, context)` runs for live and replayed outcomes alike
 * (`context.replayed` tells which), so interceptors that count (budgets, loop detection) can
 * rebuild their state deterministically; `context.verdicts` holds the call's journaled verdicts. A tool interceptor's `after` may rewrite the result the
 * model sees (redaction); the rewrite is journaled and the journal keeps only the rewritten result.
 *
 * An interceptor that throws denies the call (fail closed), with the error as the reason.
 * Interceptors must not call `ctx.*` themselves: use a verdict (park to wait for a person).
 */
export interface ToolCallInterceptor {
  readonly name: string;
  before?(
    call: ToolCallInfo,
    context: InterceptorContext,
  ): ToolVerdict | undefined | Promise<ToolVerdict | undefined>;
  after?(
    call: ToolCallInfo,
    outcome: ToolOutcome,
    context: InterceptorContext,
  ): ToolResultRewrite | undefined | void | Promise<ToolResultRewrite | undefined | void>;
  /** After this interceptor parked the call and it was decided (live only): events to journal with the decision. */
  decided?(call: ToolCallInfo, decision: ParkOutcome, context: InterceptorContext): DecidedEvents;
}

/** See {@link ToolCallInterceptor}; the same contract for model calls (no rewrite). */
export interface ModelCallInterceptor {
  readonly name: string;
  before?(
    call: ModelCallInfo,
    context: InterceptorContext,
  ): ModelVerdict | undefined | Promise<ModelVerdict | undefined>;
  after?(call: ModelCallInfo, response: ModelCallSummary, context: InterceptorContext): void | Promise<void>;
  /** See {@link ToolCallInterceptor.decided}. */
  decided?(call: ModelCallInfo, decision: ParkOutcome, context: InterceptorContext): DecidedEvents;
}

/** Events an interceptor journals with the decision of a call it parked. */
export type DecidedEvents =
  readonly EventDraft[] | undefined | void | Promise<readonly EventDraft[] | undefined | void>;

/** How a park ended: the decision received (or the deadline's denial). */
export type ParkOutcome = ParkDecision & {
  approved: boolean;
  timedOut: boolean;
  signal: string;
  /** When the approver edited the arguments: the edited call, authorized again before it may run. */
  reauthorization?: { decision: 'allow' | 'deny'; reason?: string };
};

/** Extra facts an interceptor wants journaled with its verdict (the policies that decided, a score…). */
export type VerdictData = Record<string, unknown>;

/**
 * What every verdict may carry besides its decision: `data` is journaled in the verdict event;
 * `events` are journaled right after it, in the same commit (an interceptor's own event types,
 * e.g. `tool.authorized`; give them the call's `op`).
 */
interface VerdictExtras {
  data?: VerdictData;
  events?: readonly EventDraft[];
}

export type ToolVerdict = VerdictExtras &
  (
    | { type: 'allow'; reason?: string }
    /** With `tripwire`, the agent stops with TripwireTriggeredError instead of telling the model. */
    | { type: 'deny'; reason: string; tripwire?: boolean }
    | { type: 'rewrite'; args: unknown; reason: string }
    | { type: 'park'; reason: string; signal?: string; deadline?: number }
  );

export type ModelVerdict = VerdictExtras &
  (
    | { type: 'allow'; reason?: string }
    | { type: 'deny'; reason: string }
    | { type: 'park'; reason: string; signal?: string; deadline?: number }
  );

export interface ToolResultRewrite {
  type: 'rewrite';
  result: unknown;
  reason: string;
  data?: VerdictData;
  /** Journaled right after the rewrite's verdict. */
  events?: readonly EventDraft[];
}

/** The payload of the signal that ends a park: `baton.signal(runId, 'baton.approve:<op>', { approved: true })`. */
export interface ParkDecision {
  approved: boolean;
  reason?: string;
  /** Replaces the tool's arguments (validated against its schema). */
  args?: unknown;
  /** Who decided, for the journal. */
  by?: string;
}

export interface InterceptorContext {
  readonly runId: string;
  readonly workflow: string;
  readonly tenant: string;
  /** Who started the run. */
  readonly principal: string;
  /** True when `after` is given an outcome read back from the journal, not one just produced. */
  readonly replayed: boolean;
  /** In `after` and `decided`: the call's verdicts as journaled so far (before, and a park's decision). */
  readonly verdicts?: readonly VerdictRecord[];
}

export interface ToolCallInfo {
  readonly runId: string;
  /** The call's op; its idempotency key is `runId:op`. */
  readonly op: number;
  /** The model's id for the call (or `call_<op>` for a direct `callTool`). */
  readonly callId: string;
  readonly tool: ToolDefinition;
  /**
   * The validated arguments, as rewritten by earlier interceptors. On replay of a tool with
   * `redact`, they may be the journaled ones, with `[redacted]` fields.
   */
  readonly args: unknown;
  /** The agent making the call, when an agent makes it. */
  readonly agent: string | undefined;
  readonly actor: string;
  readonly onBehalfOf: readonly string[];
  readonly idempotencyKey: string;
  /** The grant the actor holds: the run's grant narrowed as work was delegated to it (none without one). */
  readonly grant: Grant | undefined;
}

export type ToolOutcome =
  { ok: true; result: unknown } | { ok: false; error: string; kind: 'failed' | 'denied' | 'skipped' };

export interface ModelCallInfo {
  readonly runId: string;
  readonly op: number;
  readonly agent: string;
  readonly actor: string;
  readonly onBehalfOf: readonly string[];
  /** The grant the agent acts under, if any. */
  readonly grant: Grant | undefined;
  readonly provider: string;
  readonly modelId: string;
  /** The whole request, as sent. */
  readonly messages: readonly JournalMessage[];
  /** Names of the tools offered. */
  readonly tools: readonly string[];
  readonly parameters: Readonly<Record<string, unknown>>;
  /** 1 for the agent's first model call. */
  readonly turn: number;
}

export interface ModelCallSummary {
  readonly text: string;
  readonly toolCalls: readonly { callId: string; name: string }[];
  readonly finishReason: string;
  readonly usage: TokenUsage;
  readonly cost: CallCost;
}

/** A verdict as journaled in `tool.verdict` / `llm.verdict`. */
export type JournaledVerdict = VerdictRecord;

/** A verdict ready to journal: its record, and the interceptor's own events. */
export interface PendingVerdict {
  record: VerdictRecord;
  events: readonly EventDraft[];
}

/** The default signal that ends a park of op `op`. */
export function approvalSignalName(op: number): string {
  return `baton.approve:${op}`;
}

export interface BeforeDecision<Call> {
  verdicts: PendingVerdict[];
  /** The call as the last rewrite left it. */
  call: Call;
  final: 'allow' | 'deny' | 'park';
  reason?: string;
  signal?: string;
}

type AnyVerdict = VerdictExtras & {
  type: string;
  reason?: string;
  args?: unknown;
  signal?: string;
  deadline?: number;
};

/** The decision a park's deadline makes when no signal came. */
export const PARK_TIMEOUT: ParkDecision = {
  approved: false,
  reason: 'no decision before the deadline',
  by: 'system:timeout',
};

/**
 * Runs `before` of each interceptor in order until one denies or parks. A rewrite's arguments go
 * through `validateArgs` (the tool's schema) and replace the call's through `withArgs`.
 */
export async function runBefore<Call>(
  interceptors: readonly { name: string; before?: (call: Call, context: InterceptorContext) => unknown }[],
  call: Call,
  context: InterceptorContext,
  withArgs: (call: Call, args: unknown) => Call,
  validateArgs: (args: unknown) => { ok: true } | { ok: false; problem: string },
): Promise<BeforeDecision<Call>> {
  const verdicts: PendingVerdict[] = [];
  let current = call;
  for (const interceptor of interceptors) {
    if (!interceptor.before) continue;
    let verdict: AnyVerdict | undefined;
    try {
      verdict = (await interceptor.before(current, context)) as AnyVerdict | undefined;
    } catch (error) {
      const reason = `interceptor '${interceptor.name}' failed: ${(error as Error)?.message ?? String(error)}`;
      verdicts.push({
        record: { interceptor: interceptor.name, phase: 'before', verdict: 'deny', reason },
        events: [],
      });
      return { verdicts, call: current, final: 'deny', reason };
    }
    if (verdict === undefined) continue;
    const record: VerdictRecord = {
      interceptor: interceptor.name,
      phase: 'before',
      verdict: 'allow',
      ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
      ...(verdict.data === undefined ? {} : { data: verdict.data }),
    };
    const events = verdict.events ?? [];
    switch (verdict.type) {
      case 'allow':
        verdicts.push({ record, events });
        break;
      case 'rewrite': {
        const checked = validateArgs(verdict.args);
        if (!checked.ok) {
          const reason = `interceptor '${interceptor.name}' rewrote the arguments into ones that fail the tool's schema: ${checked.problem}`;
          verdicts.push({ record: { ...record, verdict: 'deny', reason }, events });
          return { verdicts, call: current, final: 'deny', reason };
        }
        verdicts.push({ record: { ...record, verdict: 'rewrite', args: verdict.args }, events });
        current = withArgs(current, verdict.args);
        break;
      }
      case 'deny': {
        const reason = verdict.reason ?? 'denied';
        const tripwire = (verdict as { tripwire?: boolean }).tripwire === true;
        verdicts.push({
          record: { ...record, verdict: 'deny', reason, ...(tripwire ? { tripwire } : {}) },
          events,
        });
        return { verdicts, call: current, final: 'deny', reason };
      }
      case 'park': {
        const signal = verdict.signal;
        const deadline =
          verdict.deadline === undefined ? undefined : new Date(verdict.deadline).toISOString();
        verdicts.push({
          record: {
            ...record,
            verdict: 'park',
            ...(signal === undefined ? {} : { signal }),
            ...(deadline === undefined ? {} : { deadline }),
          },
          events,
        });
        return {
          verdicts,
          call: current,
          final: 'park',
          ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
          ...(signal === undefined ? {} : { signal }),
        };
      }
      default: {
        const reason = `interceptor '${interceptor.name}' returned an unknown verdict '${verdict.type}'`;
        verdicts.push({ record: { ...record, verdict: 'deny', reason }, events: [] });
        return { verdicts, call: current, final: 'deny', reason };
      }
    }
  }
  return { verdicts, call: current, final: 'allow' };
}

/**
 * The events the interceptor named `by` journals with the decision of a call it parked (its
 * `decided` hook). A hook that throws fails the call's op, so nothing is decided without them.
 */
export async function decidedEvents<Call>(
  interceptors: readonly {
    name: string;
    decided?: (call: Call, decision: ParkOutcome, context: InterceptorContext) => DecidedEvents;
  }[],
  by: string,
  call: Call,
  decision: ParkOutcome,
  context: InterceptorContext,
): Promise<EventDraft[]> {
  const interceptor = interceptors.find((candidate) => candidate.name === by);
  if (!interceptor?.decided) return [];
  return [...((await interceptor.decided(call, decision, context)) ?? [])];
}
