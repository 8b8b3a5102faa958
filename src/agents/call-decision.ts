import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import type { VerdictRecord } from '../journal/events.ts';
import {
  approvalSignalName,
  PARK_TIMEOUT,
  runBefore,
  type BeforeDecision,
  type InterceptorContext,
  type ParkDecision,
} from './interceptors.ts';

/**
 * The decide phase of an intercepted call (src/engine/intercepted-operation.ts), shared by model
 * and tool calls: the recorded verdicts folded, the interceptors' `before` run, a park waited out.
 */

/** A parked call: the signal that decides it, the interceptor that parked it, and its deadline. */
export interface Park {
  signal: string;
  by: string;
  deadline: number | undefined;
}

/** Where a call's decision stands after its recorded verdicts. */
export interface DecisionState {
  /** True once any verdict (or, for model calls, a failed attempt) was journaled: `before` is not run again. */
  decided: boolean;
  decision: 'allowed' | 'denied' | 'parked';
  /** The verdict that denied the call. */
  denial?: VerdictRecord;
  /** The park the call waits on. */
  park?: Park;
  /** The call's verdicts as journaled, for interceptors' `after` and `decided`. */
  verdicts: VerdictRecord[];
}

export function undecided(): DecisionState {
  return { decided: false, decision: 'allowed', verdicts: [] };
}

/** What the interceptors of a call are told about it. */
export function interceptorContext(
  ctx: WorkflowContext,
  replayed: boolean,
  verdicts: readonly VerdictRecord[],
): InterceptorContext {
  return {
    runId: ctx.runId,
    workflow: ctx.workflow,
    tenant: ctx.tenant,
    principal: ctx.principal,
    replayed,
    verdicts,
  };
}

/**
 * Folds one recorded verdict into the state; returns true when it ended a park (the call was
 * approved). An `after` verdict is kept but decides nothing.
 */
export function foldVerdict(state: DecisionState, record: VerdictRecord, op: number): boolean {
  state.decided = true;
  state.verdicts.push(record);
  if (record.phase === 'after') return false;
  if (record.verdict === 'deny') {
    state.decision = 'denied';
    state.denial = record;
    return false;
  }
  if (record.verdict === 'park') {
    state.decision = 'parked';
    state.park = parkOf(record, op);
    return false;
  }
  if (state.decision !== 'parked') return false;
  state.decision = 'allowed';
  delete state.park;
  return true;
}

/** The park a `park` verdict starts. */
export function parkOf(record: VerdictRecord, op: number): Park {
  return {
    signal: record.signal ?? approvalSignalName(op),
    by: record.interceptor,
    deadline: record.deadline === undefined ? undefined : Date.parse(record.deadline),
  };
}

/**
 * Runs the interceptors' `before` (src/agents/interceptors.ts); a park that names no signal is
 * given the op's default one, so the journal says which signal decides it.
 */
export async function decideBefore<Call>(
  op: number,
  ...args: Parameters<typeof runBefore<Call>>
): Promise<BeforeDecision<Call>> {
  const decision = await runBefore(...args);
  if (decision.final === 'park' && decision.signal === undefined) {
    decision.verdicts.at(-1)!.record.signal = approvalSignalName(op);
  }
  return decision;
}

/** How a park ended: the decision's payload (or the deadline's), and the signal to consume with it. */
export interface ParkAnswer {
  answer: Partial<ParkDecision>;
  timedOut: boolean;
  signal: { signalId: string; payload: unknown } | undefined;
}

/**
 * Waits for the signal that decides a parked call, holding no worker (the op blocks until the
 * signal or the deadline). A deadline passed with no signal denies the call (PARK_TIMEOUT).
 */
export async function awaitPark(ctx: WorkflowContext, op: OperationHandle, park: Park): Promise<ParkAnswer> {
  const taken = ctx.operations.takeSignal(park.signal);
  const timedOut = taken === undefined && park.deadline !== undefined && op.now() >= park.deadline;
  const signal = taken ?? (timedOut ? undefined : await op.block(park.deadline));
  const answer = (signal ? (signal.payload ?? {}) : PARK_TIMEOUT) as Partial<ParkDecision>;
  return { answer, timedOut, signal };
}

/** The `decided` verdict that ends a park, as journaled. */
export function decidedRecord(
  park: Park,
  verdict: VerdictRecord['verdict'],
  facts: { reason?: string | undefined; args?: unknown; data?: Record<string, unknown> | undefined },
): VerdictRecord {
  return {
    interceptor: `signal:${park.signal}`,
    phase: 'decided',
    verdict,
    ...(facts.reason === undefined ? {} : { reason: facts.reason }),
    ...(facts.args === undefined ? {} : { args: facts.args }),
    ...(facts.data === undefined ? {} : { data: facts.data }),
  };
}
