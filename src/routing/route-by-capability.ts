import type { WorkflowContext } from '../engine/context.ts';
import type { JournalEventPayloads, RouteCandidateRecord } from '../journal/events.ts';
import { resolveRankOptions, type CapabilityRegistry, type RankOptions } from './capability-registry.ts';
import { checkText, rejected } from './routing-errors.ts';

export interface RouteOptions extends RankOptions {
  /** The decision's name in the journal. Default `capabilities`. */
  name?: string;
}

export interface RouteDecision {
  /** The chosen capability's name; undefined when no candidate reached minScore. */
  chosen: string | undefined;
  candidates: RouteCandidateRecord[];
  reason: string;
  /** True when the decision was read from the journal instead of being made now. */
  replayed: boolean;
}

/**
 * Chooses the agent or tool for a task from the capability index, and journals the decision as
 * `route.decided` (the chosen name and every candidate with its similarity, cost and score), or
 * `route.failed` when no candidate reached `minScore`.
 *
 * Options are checked before anything is journaled (k ≥ 1, minScore in [-1, 1], costBias in [0, 1]).
 * With `costBias: 1` the cheapest candidate that clears `minScore` wins; with 0 the most similar.
 *
 * Failure semantics: the decision is journaled before it is returned, so after a crash or on replay
 * the journaled decision is returned as it is — the task is not embedded again and the registry
 * (which may have changed since) is not consulted. A crash before the event is committed makes the
 * decision again. An empty registry throws EmptyRegistryError and journals nothing.
 *
 * @example
 * const decision = await routeByCapability(ctx, registry, input.ticket, { k: 5, minScore: 0.3, costBias: 0.5 });
 * if (decision.chosen) await ctx.run(agents[decision.chosen], { task: input.ticket });
 */
export function routeByCapability(
  ctx: WorkflowContext,
  registry: CapabilityRegistry,
  task: string,
  options: RouteOptions = {},
): Promise<RouteDecision> {
  let resolved: ReturnType<typeof resolveRankOptions>;
  const name = options.name ?? 'capabilities';
  try {
    checkText(task, 'The task to route');
    checkText(name, 'The route name');
    resolved = resolveRankOptions(options);
  } catch (error) {
    return rejected(error);
  }
  return ctx.operations.run(`route:${name}`, async (op) => {
    for (const event of op.recorded) {
      if (event.type === 'route.decided') {
        const payload = event.payload as JournalEventPayloads['route.decided'];
        return {
          chosen: payload.chosen,
          candidates: payload.candidates,
          reason: payload.reason,
          replayed: true,
        };
      }
      if (event.type === 'route.failed') {
        const payload = event.payload as JournalEventPayloads['route.failed'];
        return { chosen: undefined, candidates: payload.candidates, reason: payload.reason, replayed: true };
      }
    }
    const ranking = await op.active(() => registry.rank(task, options));
    const candidates: RouteCandidateRecord[] = ranking.candidates.map(
      ({ name: candidate, similarity, cost, score, eligible }) => ({
        name: candidate,
        score,
        similarity,
        cost,
        eligible,
      }),
    );
    const common = {
      op: op.op,
      name,
      candidates,
      reason: ranking.reason,
      decidedBy: `capability-index:${ranking.space}`,
      task,
      options: resolved,
      space: ranking.space,
    };
    if (ranking.chosen) {
      await op.append([{ type: 'route.decided', payload: { ...common, chosen: ranking.chosen.name } }]);
    } else {
      await op.append([{ type: 'route.failed', payload: common }]);
    }
    return { chosen: ranking.chosen?.name, candidates, reason: ranking.reason, replayed: false };
  });
}
