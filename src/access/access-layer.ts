import type { ChildOptions, ChildRun, WorkflowContext } from '../engine/context.ts';
import type { ContextLayer } from '../engine/context-layer.ts';
import type { WorkflowDefinition, WorkflowInput, WorkflowOutput } from '../engine/workflow.ts';
import { AccessDeniedError } from './access-errors.ts';
import type { AccessControl } from './access-control.ts';
import { authorizeDelegationDurably } from './authorize-delegation.ts';
import type { Grant } from './grant.ts';
import { chainOf } from './identity-chain.ts';
import { grantOf } from './run-grant.ts';

/** A child start's options under access control. */
export interface AccessChildOptions extends ChildOptions {
  /**
   * The grant actions the child run needs (`['tool:search.*']`): it starts under the parent's grant
   * narrowed to them, and a need the parent does not hold refuses the start (`delegation widens`).
   * Default: everything the parent holds.
   */
  needs?: readonly string[];
}

/** What the access layer gives a workflow's ctx. */
export interface AccessContext {
  /**
   * The grant the workflow's own calls (`callTool`, `ctx.child`, the agents it runs) act under:
   * the run's root grant. Agents, child runs and parallel agent branches get it narrowed to what
   * they need. Undefined when the run has no grant.
   */
  readonly grant: Grant | undefined;
  /**
   * Starts a child run, authorized: with policies or a grant, StartChild is decided first (journaled
   * as its own op, `access:StartChild:workflow:<name>`), the grant is narrowed to the child's
   * `needs`, and the child starts under it; a denied start rejects the child's future with
   * AccessDeniedError. Without either, it is the engine's `ctx.child`.
   */
  child<W extends WorkflowDefinition<any, any, any>>(
    workflow: W,
    input: WorkflowInput<W>,
    options?: AccessChildOptions,
  ): ChildRun<WorkflowOutput<W>>;
}

/** The access layer: `ctx.grant`, and `ctx.child` authorized by `access`'s policies and the run's grant. */
export function accessLayer(access: AccessControl): ContextLayer<WorkflowContext, AccessContext> {
  return {
    name: 'access',
    extend: (ctx) => {
      const start = ctx.child.bind(ctx);
      return {
        get grant() {
          return grantOf(ctx);
        },
        child: (workflow, input, options = {}) =>
          authorizedChild(access, ctx, start, workflow, input, options),
      };
    },
  };
}

function authorizedChild<W extends WorkflowDefinition<any, any, any>>(
  access: AccessControl,
  ctx: WorkflowContext,
  start: WorkflowContext['child'],
  workflow: W,
  input: WorkflowInput<W>,
  options: AccessChildOptions,
): ChildRun<WorkflowOutput<W>> {
  const { needs, grant: _given, ...rest } = options;
  let started: Promise<{ child: ChildRun<WorkflowOutput<W>> }>;
  try {
    const parent = grantOf(ctx);
    // A recorded run keeps its shape (policies may have been turned on or off since); new starts
    // are authorized when there are policies or a grant.
    const recorded = ctx.operations.peek();
    const authorize =
      recorded === undefined
        ? access.policies !== undefined || parent !== undefined
        : recorded.startsWith('access:StartChild:');
    if (!authorize) return start(workflow, input, rest);
    started = authorizeStart(access, ctx, workflow.name, parent, needs).then((delegated) => ({
      child: start(workflow, input, { ...rest, ...(delegated ? { grant: delegated } : {}) }),
    }));
  } catch (error) {
    started = rejection(error);
  }
  started.catch(() => {});
  const runId = started.then(({ child }) => child.runId);
  runId.catch(() => {});
  return {
    runId,
    then: (onFulfilled, onRejected) => started.then(({ child }) => child).then(onFulfilled, onRejected),
  };
}

/** Decides StartChild (durably); resolves to the grant the child gets, or rejects with AccessDeniedError. */
async function authorizeStart(
  access: AccessControl,
  ctx: WorkflowContext,
  workflow: string,
  parent: Grant | undefined,
  needs: readonly string[] | undefined,
): Promise<Grant | undefined> {
  const chain = chainOf(ctx);
  const decision = await authorizeDelegationDurably(ctx, access.authorizer, {
    chain,
    action: 'StartChild',
    resource: { kind: 'workflow', name: workflow },
    ...(parent ? { grant: parent } : {}),
    needs: needs ?? parent?.actions ?? [],
    strict: needs !== undefined,
    holder: `workflow:${workflow}`,
    maxDepth: access.maxDelegationDepth,
  });
  if (decision.decision === 'deny') {
    throw new AccessDeniedError({
      actor: chain.actor,
      action: decision.action,
      resource: decision.resource,
      reason: decision.errors.length ? `${decision.reason}: ${decision.errors.join('; ')}` : decision.reason,
      policies: decision.policies,
    });
  }
  return decision.delegated;
}

/** A promise rejected with `error`, whatever was thrown. */
async function rejection(error: unknown): Promise<never> {
  throw error;
}
