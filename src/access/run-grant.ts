import type { WorkflowContext } from '../engine/context.ts';
import { parseGrant, type Grant } from './grant.ts';

const grants = new WeakMap<object, Grant | undefined>();

/**
 * The grant the workflow's own calls act under: the run's root grant (journaled in `run.started`),
 * read and checked once per activation. Undefined when the run has none.
 *
 * @throws InvalidGrantError when the journaled grant no longer matches its id.
 */
export function grantOf(ctx: Pick<WorkflowContext, 'identity'>): Grant | undefined {
  if (grants.has(ctx)) return grants.get(ctx);
  const recorded = ctx.identity.grant;
  const grant = recorded === undefined ? undefined : parseGrant(recorded);
  grants.set(ctx, grant);
  return grant;
}
