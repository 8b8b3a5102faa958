import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError, serializeError, type SerializedError } from '../errors.ts';
import type { PartialFailurePolicy } from '../journal/events.ts';
import { describePolicy, ParallelFailedError } from './pattern-errors.ts';
import {
  checkName,
  isAgent,
  isNonDeterminism,
  outcomeDiverged,
  recordedEvent,
  reserveOperation,
  runRunnable,
  type Runnable,
} from './runnable.ts';

/** How the branches of a `parallel` ended, by branch name. */
export interface ParallelOutcome<Branch extends string, Value> {
  /** The values of the branches that succeeded. */
  values: Partial<Record<Branch, Value>>;
  /** Why each failed branch failed. */
  failures: Partial<Record<Branch, SerializedError>>;
  succeeded: Branch[];
  failed: Branch[];
}

export interface ParallelOptions<
  Context extends WorkflowContext,
  Input,
  Branch extends string,
  Value,
  Result,
> {
  /** The parallel's name in the journal. Default `parallel`. */
  name?: string;
  /** Given to every branch (a string input is an agent branch's task). */
  input?: Input;
  /**
   * What failed branches do to the whole: `'fail'` (default) fails it when any branch fails;
   * `'continue'` goes on with whatever succeeded; `{ minSuccesses: n }` goes on when at least n did.
   */
  onPartialFailure?: PartialFailurePolicy;
  /** Turns the outcome into the result (workflow code: it may call ctx, e.g. a writer agent). Default: the outcome. */
  combine?: (outcome: ParallelOutcome<Branch, Value>, ctx: Context) => Result | Promise<Result>;
}

/**
 * Runs branches at once and combines their results. Each branch is workflow code
 * `(ctx, input) => …` or an agent; all branches run to the end (there is no cancelling a
 * journaled call halfway), then the partial-failure policy decides.
 *
 * Journals the fan-out (`parallel.started`: branches, policy), each branch's outcome
 * (`parallel.branch.completed` / `parallel.branch.failed` with its error) and the verdict
 * (`parallel.completed` / `parallel.failed`, with who succeeded, who failed and why the policy
 * allowed it or not). A verdict against the policy throws ParallelFailedError. On replay each branch
 * runs again as workflow code (its completed ctx calls answered from the journal); a branch whose
 * outcome now differs from the journaled one is a NonDeterminismError, and the journaled verdict
 * stands.
 *
 * Branches that make several ctx calls each (agents that call tools) replay exactly too: the engine
 * hands recorded results back in the order the calls first finished (docs/decisions/0001).
 *
 * @example
 * const { values } = await parallel(ctx, { web: webResearcher, docs: docsResearcher, math: calculatorAgent }, {
 *   input: question,
 *   onPartialFailure: { minSuccesses: 2 },
 * });
 */
export async function parallel<
  Context extends WorkflowContext,
  Branch extends string,
  Value,
  Input = unknown,
  Result = ParallelOutcome<Branch, Value>,
>(
  ctx: Context,
  branches: Record<Branch, Runnable<Context, Input, Value>>,
  options: ParallelOptions<Context, Input, Branch, Value, Result> = {},
): Promise<Result> {
  const name = checkName(options.name ?? 'parallel', 'A parallel');
  if (
    typeof branches !== 'object' ||
    branches === null ||
    Array.isArray(branches) ||
    Object.keys(branches).length === 0
  ) {
    throw new InvalidArgumentError(
      `Parallel '${name}' needs its branches as a non-empty object { name: branch }.`,
    );
  }
  const names = Object.keys(branches) as Branch[];
  for (const branch of names) {
    checkName(branch, `Parallel '${name}': a branch`);
    const runnable = branches[branch];
    if (typeof runnable !== 'function' && !isAgent(runnable)) {
      throw new InvalidArgumentError(
        `Branch '${branch}' of parallel '${name}' is not a function or an agent.`,
      );
    }
  }
  const policy = checkPolicy(options.onPartialFailure ?? 'fail', name, names.length);

  // Every op this parallel journals is taken now, in branch order, whatever order branches end in.
  const [op, ...branchOps] = await Promise.all([
    reserveOperation(ctx, `parallel:${name}`),
    ...names.map((branch) => reserveOperation(ctx, `parallel:${name}/${branch}`)),
  ]);
  if (!recordedEvent(op, 'parallel.started')) {
    op.buffer({ type: 'parallel.started', payload: { op: op.op, name, branches: [...names], policy } });
  }

  // Each branch's outcome is journaled as it ends (with the next write: no commit of its own).
  const settled = await Promise.allSettled(
    names.map(async (branch, index) => {
      const branchOp = branchOps[index]!;
      const branchName = `${name}/${branch}`;
      let value: Value;
      try {
        value = await runRunnable(ctx, branches[branch], options.input as Input);
      } catch (error) {
        if (isNonDeterminism(error)) throw error;
        checkBranchReplay(ctx, branchOp, name, branch, false);
        if (!recordedEvent(branchOp, 'parallel.branch.failed')) {
          branchOp.buffer({
            type: 'parallel.branch.failed',
            payload: {
              op: branchOp.op,
              name: branchName,
              parallel: name,
              branch,
              error: serializeError(error),
            },
          });
        }
        throw error;
      }
      checkBranchReplay(ctx, branchOp, name, branch, true);
      if (!recordedEvent(branchOp, 'parallel.branch.completed')) {
        branchOp.buffer({
          type: 'parallel.branch.completed',
          payload: { op: branchOp.op, name: branchName, parallel: name, branch },
        });
      }
      return value;
    }),
  );
  const divergence = settled.find(
    (result): result is PromiseRejectedResult =>
      result.status === 'rejected' && isNonDeterminism(result.reason),
  );
  if (divergence) throw divergence.reason;

  const outcome: ParallelOutcome<Branch, Value> = { values: {}, failures: {}, succeeded: [], failed: [] };
  for (const [index, branch] of names.entries()) {
    const result = settled[index]!;
    if (result.status === 'fulfilled') {
      outcome.values[branch] = result.value;
      outcome.succeeded.push(branch);
    } else {
      outcome.failures[branch] = serializeError(result.reason);
      outcome.failed.push(branch);
    }
  }

  const recordedVerdict = recordedEvent(op, 'parallel.completed', 'parallel.failed');
  let ok: boolean;
  if (recordedVerdict) {
    ok = recordedVerdict.type === 'parallel.completed';
  } else {
    const verdict = judge(policy, outcome.succeeded.length, outcome.failed.length);
    ok = verdict.ok;
    const payload = {
      op: op.op,
      name,
      succeeded: outcome.succeeded,
      failed: outcome.failed,
      reason: verdict.reason,
    };
    await op.append([{ type: ok ? 'parallel.completed' : 'parallel.failed', payload }]);
  }
  if (!ok) {
    const firstFailure = settled.find((result) => result.status === 'rejected');
    throw new ParallelFailedError({
      parallel: name,
      policy,
      succeeded: outcome.succeeded,
      failures: outcome.failures as Record<string, SerializedError>,
      cause: firstFailure?.reason,
    });
  }
  if (!options.combine) return outcome as Result;
  return options.combine(outcome, ctx);
}

function checkBranchReplay(
  ctx: WorkflowContext,
  branchOp: OperationHandle,
  name: string,
  branch: string,
  succeeded: boolean,
): void {
  const recorded = recordedEvent(branchOp, 'parallel.branch.completed', 'parallel.branch.failed');
  if (!recorded) return;
  const wasSuccess = recorded.type === 'parallel.branch.completed';
  if (wasSuccess !== succeeded) {
    const word = (ok: boolean): string => (ok ? 'completed' : 'failed');
    throw outcomeDiverged(
      ctx,
      recorded,
      `branch '${branch}' of parallel '${name}' ${word(wasSuccess)}`,
      `the branch ${word(succeeded)} on replay`,
    );
  }
}

function checkPolicy(policy: PartialFailurePolicy, name: string, branches: number): PartialFailurePolicy {
  if (policy === 'fail' || policy === 'continue') return policy;
  const min = typeof policy === 'object' && policy !== null ? policy.minSuccesses : undefined;
  if (typeof min !== 'number' || !Number.isInteger(min) || min < 1 || min > branches) {
    throw new InvalidArgumentError(
      `Parallel '${name}' has onPartialFailure ${JSON.stringify(policy)}; use 'fail', 'continue' or ` +
        `{ minSuccesses: n } with n from 1 to its ${branches} branches.`,
    );
  }
  return { minSuccesses: min };
}

function judge(
  policy: PartialFailurePolicy,
  succeeded: number,
  failed: number,
): { ok: boolean; reason: string } {
  const total = succeeded + failed;
  const tally = `${succeeded} of ${total} branch(es) succeeded`;
  if (policy === 'fail') {
    return failed === 0
      ? { ok: true, reason: `all ${total} branch(es) succeeded` }
      : { ok: false, reason: `${tally}; policy ${describePolicy(policy)} allows no failure` };
  }
  if (policy === 'continue')
    return { ok: true, reason: `${tally}; policy ${describePolicy(policy)} goes on regardless` };
  return succeeded >= policy.minSuccesses
    ? { ok: true, reason: `${tally}, at least ${policy.minSuccesses} required` }
    : { ok: false, reason: `${tally}, fewer than the ${policy.minSuccesses} required` };
}
