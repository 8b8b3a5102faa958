import type { WorkflowContext } from '../engine/context.ts';
import { BatonError } from '../errors.ts';
import type { CapabilityRegistry } from './capability-registry.ts';
import type { LongTermMemory, MemoryApi } from './memory.ts';
import { routeByCapability, type RouteDecision, type RouteOptions } from './route-by-capability.ts';

/** What {@link withRouting} adds to a workflow's ctx. */
export interface RoutingContext {
  /** Chooses an agent or tool for the task from the capability index; journaled (see routeByCapability). */
  route(task: string, options?: RouteOptions): Promise<RouteDecision>;
  /** The acting agent's long-term memory in the run's tenant; journaled. */
  readonly memory: MemoryApi;
}

export interface RoutingSetup {
  registry?: CapabilityRegistry;
  memory?: LongTermMemory;
}

/**
 * Adds `ctx.route` and `ctx.memory` to a workflow context. Pass it to Baton as the context
 * extension (compose it with the agents layer's if there is one):
 *
 * @example
 * const registry = await CapabilityRegistry.open({ embedder, records: store.vectorRecords, capabilities: agents });
 * const memory = new LongTermMemory({ records: store.vectorRecords, embedder });
 * const baton = await Baton.open({ store, workflows, extendContext: (ctx) => withRouting(ctx, { registry, memory }) });
 * // in a workflow typed WorkflowContext & RoutingContext:
 * const decision = await ctx.route(input.ticket, { costBias: 0.5 });
 */
export function withRouting<C extends WorkflowContext>(ctx: C, setup: RoutingSetup): C & RoutingContext {
  let memory: MemoryApi | undefined;
  return Object.defineProperties(ctx, {
    route: {
      configurable: true,
      value: (task: string, options?: RouteOptions) => {
        if (!setup.registry) return Promise.reject(missing('ctx.route', 'registry'));
        return routeByCapability(ctx, setup.registry, task, options);
      },
    },
    memory: {
      configurable: true,
      get: () => {
        if (!setup.memory) throw missing('ctx.memory', 'memory');
        return (memory ??= setup.memory.forContext(ctx));
      },
    },
  }) as C & RoutingContext;
}

function missing(feature: string, option: string): BatonError {
  return new BatonError(
    'ROUTING_NOT_CONFIGURED',
    `${feature} is not set up: pass { ${option} } to withRouting(ctx, …) in Baton's extendContext.`,
  );
}
