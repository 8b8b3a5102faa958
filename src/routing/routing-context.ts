import type { WorkflowContext } from '../engine/context.ts';
import { BatonError } from '../errors.ts';
import type { AgentDefinition } from '../agents/agent.ts';
import { capabilityOf } from './agent-capabilities.ts';
import { CapabilityRegistry, type Capability } from './capability-registry.ts';
import type { Embedder } from './embedder.ts';
import type { VectorRecordStore } from '../store/vector-records.ts';
import { WordVectorEmbedder } from './word-vector-embedder.ts';
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
  /** Options every `ctx.route` call starts from (a `fallback`, `costBias`…); a call's own win. */
  defaults?: RouteOptions;
}

/**
 * Capability routing for `Baton.open({ routing })` / `baton.config.ts`: the agents and tools
 * `ctx.route` chooses among, kept in the Baton's store (only changed texts are embedded at start).
 *
 * @example
 * Baton.open({ store, workflows, routing: { capabilities: [billing, accounts, warranty], defaults: { fallback: 'generalist' } } });
 */
export interface RoutingOptions {
  /**
   * How texts are compared. Default: the built-in {@link WordVectorEmbedder} (offline). For a
   * hosted model: `embedder: embedderFromModel({ model: openai.embedding('text-embedding-3-small'), dimensions: 1536 })`.
   */
  embedder?: Embedder;
  /** Agents (their name and description, priced by their model) and other capabilities to route to. */
  capabilities?: readonly (Capability | AgentDefinition<any>)[];
  /** A registry opened elsewhere, instead of `embedder` and `capabilities`. */
  registry?: CapabilityRegistry;
  /** Options every `ctx.route` call starts from: `{ fallback: 'generalist' }`, `{ costBias: 0.3 }`… */
  defaults?: RouteOptions;
}

/** Opens the registry of `Baton.open({ routing })` on the store's vector records. */
export async function openRouting(
  options: RoutingOptions,
  records: VectorRecordStore | undefined,
  log?: (message: string) => void,
): Promise<CapabilityRegistry> {
  if (options.registry) return options.registry;
  const capabilities = (options.capabilities ?? []).map((given) =>
    'instructions' in given && 'model' in given ? capabilityOf(given) : given,
  );
  return CapabilityRegistry.open({
    embedder: options.embedder ?? new WordVectorEmbedder(),
    ...(records ? { records } : {}),
    capabilities,
    ...(log ? { log } : {}),
  });
}

/**
 * Adds `ctx.route` and `ctx.memory` to a workflow context. Baton does this itself when opened with
 * `routing` or `agents.memory`; call it directly only to compose contexts by hand.
 *
 * @example
 * const baton = await Baton.open({ store, workflows, routing: { capabilities: agents }, agents: { memory: {} } });
 * // in a workflow typed AgentContext & RoutingContext:
 * const decision = await ctx.route(input.ticket, { costBias: 0.5 });
 */
export function withRouting<C extends WorkflowContext>(ctx: C, setup: RoutingSetup): C & RoutingContext {
  let memory: MemoryApi | undefined;
  return Object.defineProperties(ctx, {
    route: {
      configurable: true,
      value: (task: string, options?: RouteOptions) => {
        if (!setup.registry) return Promise.reject(missing('ctx.route', 'registry'));
        return routeByCapability(ctx, setup.registry, task, { ...setup.defaults, ...options });
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
    option === 'registry'
      ? `${feature} is not set up: pass Baton.open({ routing: { capabilities: [...] } }) (or routing in baton.config.ts).`
      : `${feature} is not set up: pass Baton.open({ agents: { memory: {} } }) (or a LongTermMemory).`,
  );
}
