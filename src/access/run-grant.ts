import type { WorkflowContext } from '../engine/context.ts';
import type { GrantRecord } from '../journal/events.ts';
import { parseGrant, type Grant } from './grant.ts';

/** Grants read from the journal, by the record they were read from (checked once per record). */
const parsed = new WeakMap<GrantRecord, Grant>();

/**
 * The grant the workflow's own calls act under: the run's root grant (journaled in `run.started`),
 * read and checked once. Undefined when the run has none. The access layer gives it as `ctx.grant`.
 *
 * @throws InvalidGrantError when the journaled grant no longer matches its id.
 */
export function grantOf(ctx: Pick<WorkflowContext, 'identity'>): Grant | undefined {
  const recorded = ctx.identity.grant;
  if (recorded === undefined) return undefined;
  let grant = parsed.get(recorded);
  if (grant === undefined) parsed.set(recorded, (grant = parseGrant(recorded)));
  return grant;
}
