import type { WorkflowContext } from '../engine/context.ts';
import type { ContextLayer } from '../engine/context-layer.ts';
import { BatonError } from '../errors.ts';
import type { CapabilityRegistry } from './capability-registry.ts';
import type { LongTermMemory, MemoryApi } from './memory.ts';
import {
  routeByCapability,
  type CapabilityRouteDecision,
  type CapabilityRouteOptions,
} from './route-by-capability.ts';

/** What the routing layer ({@link routingLayer}) gives a workflow's ctx. */
export interface RoutingContext {
  /** Chooses an agent or tool for the task from the capability index; journaled (see routeByCapability). */
  route(task: string, options?: CapabilityRouteOptions): Promise<CapabilityRouteDecision>;
  /** The acting agent's long-term memory in the run's tenant; journaled. */
  readonly memory: MemoryApi;
}

export interface RoutingSetup {
  registry?: CapabilityRegistry;
  memory?: LongTermMemory;
  /** Options every `ctx.route` call starts from (a `fallback`, `costBias`…); a call's own win. */
  defaults?: CapabilityRouteOptions;
}

/**
 * The routing layer: `ctx.route` and `ctx.memory` (which say how to set them up when they are not).
 * Baton puts it in every run's context; give it to `Baton.open({ layers })` only to route with
 * another registry or memory.
 *
 * @example
 * const baton = await Baton.open({ store, workflows, routing: { capabilities: agents }, agents: { memory: {} } });
 * // in a workflow:
 * const decision = await ctx.route(input.ticket, { costBias: 0.5 });
 */
export function routingLayer(setup: RoutingSetup): ContextLayer<WorkflowContext, RoutingContext> {
  return {
    name: 'routing',
    extend: (ctx) => {
      let memory: MemoryApi | undefined;
      return {
        route: (task, options) => {
          if (!setup.registry) return Promise.reject(missing('ctx.route', 'registry'));
          return routeByCapability(ctx, setup.registry, task, { ...setup.defaults, ...options });
        },
        get memory() {
          if (!setup.memory) throw missing('ctx.memory', 'memory');
          return (memory ??= setup.memory.forContext(ctx));
        },
      };
    },
  };
}

function missing(feature: string, option: string): BatonError {
  return new BatonError(
    'ROUTING_NOT_CONFIGURED',
    option === 'registry'
      ? `${feature} is not set up: pass Baton.open({ routing: { capabilities: [...] } }) (or routing in baton.config.ts).`
      : `${feature} is not set up: pass Baton.open({ agents: { memory: {} } }) (or a LongTermMemory).`,
  );
}
