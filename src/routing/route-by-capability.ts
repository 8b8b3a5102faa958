import type { WorkflowContext } from '../engine/context.ts';
import type { RouteCandidateRecord } from '../journal/events.ts';
import { resolveRankOptions, type CapabilityRegistry, type RankOptions } from './capability-registry.ts';
import { checkText, rejected } from '../argument-checks.ts';

/** How `ctx.route` / {@link routeByCapability} choose (the routing pattern `route()` has its own `RouteOptions`). */
export interface CapabilityRouteOptions extends RankOptions {
  /** The decision's name in the journal. Default `capabilities`. */
  name?: string;
  /**
   * Where a task goes when no capability fits (none reaches minScore): a generalist agent, a
   * person's queue (`person:support-lead`), any name the workflow acts on. The decision is journaled
   * as route.decided with `fallback: true`. Without it, such a task journals route.failed and
   * `chosen` is undefined.
   */
  fallback?: string;
}

export interface CapabilityRouteDecision {
  /** The chosen capability's name, or the fallback; undefined when nothing fits and there is no fallback. */
  chosen: string | undefined;
  /** True when no capability fit and the fallback was chosen. */
  fallback: boolean;
  candidates: RouteCandidateRecord[];
  reason: string;
  /** True when the decision was read from the journal instead of being made now. */
  replayed: boolean;
}

/**
 * Chooses the agent or tool for a task from the capability index, and journals the decision as
 * `route.decided` (the chosen name and every candidate with its similarity, cost and score), or,
 * when no candidate reached `minScore` ("no capability fits"), `route.decided` for the `fallback`
 * with `fallback: true`, else `route.failed`.
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
 * if (decision.chosen) await ctx.runAgent(agents[decision.chosen], { task: input.ticket });
 */
export function routeByCapability(
  ctx: WorkflowContext,
  registry: CapabilityRegistry,
  task: string,
  options: CapabilityRouteOptions = {},
): Promise<CapabilityRouteDecision> {
  const name = options.name ?? 'capabilities';
  try {
    checkText(task, 'The task to route');
    checkText(name, 'The route name');
    resolveRankOptions(options, registry.embedder); // checks the options before anything is journaled
    if (options.fallback !== undefined) checkText(options.fallback, 'The route fallback');
  } catch (error) {
    return rejected(error);
  }
  return ctx.operations.run(`route:${name}`, async (op) => {
    for (const event of op.recorded) {
      if (event.type === 'route.decided') {
        const payload = event.payload;
        return {
          chosen: payload.chosen,
          fallback: payload.fallback === true,
          candidates: payload.candidates,
          reason: payload.reason,
          replayed: true,
        };
      }
      if (event.type === 'route.failed') {
        const payload = event.payload;
        return {
          chosen: undefined,
          fallback: false,
          candidates: payload.candidates,
          reason: payload.reason,
          replayed: true,
        };
      }
    }
    const { fallback, name: _name, ...rankOptions } = options;
    const ranking = await op.active(() => registry.rank(task, rankOptions));
    const candidates: RouteCandidateRecord[] = ranking.candidates.map(
      ({ name: candidate, similarity, confidence, alignment, cost, score, eligible }) => ({
        name: candidate,
        score,
        similarity,
        ...(confidence === undefined ? {} : { confidence }),
        ...(alignment === undefined ? {} : { alignment }),
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
      options: ranking.options,
      space: ranking.space,
    };
    if (ranking.chosen) {
      await op.append([{ type: 'route.decided', payload: { ...common, chosen: ranking.chosen.name } }]);
      return {
        chosen: ranking.chosen.name,
        fallback: false,
        candidates,
        reason: ranking.reason,
        replayed: false,
      };
    }
    if (fallback !== undefined) {
      const reason = `${ranking.reason} No capability fits: falling back to ${fallback}.`;
      await op.append([
        { type: 'route.decided', payload: { ...common, reason, chosen: fallback, fallback: true } },
      ]);
      return { chosen: fallback, fallback: true, candidates, reason, replayed: false };
    }
    await op.append([{ type: 'route.failed', payload: common }]);
    return { chosen: undefined, fallback: false, candidates, reason: ranking.reason, replayed: false };
  });
}

/** @deprecated Renamed {@link CapabilityRouteOptions}: `RouteOptions` is the routing pattern's (`route()`). */
export type RouteOptions = CapabilityRouteOptions;
/** @deprecated Renamed {@link CapabilityRouteDecision}. */
export type RouteDecision = CapabilityRouteDecision;
