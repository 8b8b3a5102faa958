import { CapabilityRegistry, type Capability } from '../routing/capability-registry.ts';
import type { CapabilityClassifierOptions } from '../routing/capability-classifier.ts';
import type { Embedder } from '../routing/embedder.ts';
import type { CapabilityRouteOptions } from '../routing/route-by-capability.ts';
import { WordVectorEmbedder } from '../routing/word-vector-embedder.ts';
import type { VectorRecordStore } from '../store/vector-records.ts';
import type { AgentDefinition } from './agent.ts';
import { DEFAULT_PRICES, findPrice, type PriceTable } from '../routing/prices.ts';

export interface AgentCapabilityOptions {
  /** Tasks the agent handles, to sharpen the match. */
  examples?: readonly string[];
  /** The cost to route by; default: its model's input + output price per 1M tokens (from `prices`). */
  cost?: number;
  /** Default: the agents layer's DEFAULT_PRICES. */
  prices?: PriceTable;
  /** The cost of an agent whose model has no price. Default 1. */
  unpricedCost?: number;
}

/**
 * An agent's capability for the routing index: its name and description, with a cost taken from its
 * model's price (input + output USD per 1M tokens), so `costBias` prefers agents on cheaper models.
 *
 * @example
 * const registry = await CapabilityRegistry.open({
 *   embedder, records: store.vectorRecords,
 *   capabilities: [capabilityOf(billing, { examples: ['refund a double charge'] }), capabilityOf(shipping)],
 * });
 */
export function capabilityOf(
  agent: Pick<AgentDefinition<any>, 'name' | 'description' | 'model'>,
  options: AgentCapabilityOptions = {},
): Capability {
  let cost = options.cost;
  if (cost === undefined) {
    const { provider, modelId } = modelIdentity(agent.model);
    const price = findPrice(options.prices ?? DEFAULT_PRICES, provider, modelId);
    cost = price ? price.input + price.output : (options.unpricedCost ?? 1);
  }
  return {
    name: agent.name,
    description: agent.description,
    kind: 'agent',
    cost,
    ...(options.examples ? { examples: options.examples } : {}),
  };
}

/** `openai:gpt-4.1-mini` → openai / gpt-4.1-mini; `openai-compatible:<url>#<model>` → openai-compatible / <model>. */
function modelIdentity(model: AgentDefinition<any>['model']): { provider: string; modelId: string } {
  if (typeof model !== 'string') return { provider: model.provider, modelId: model.modelId };
  const colon = model.indexOf(':');
  const provider = colon < 0 ? '' : model.slice(0, colon);
  const rest = colon < 0 ? model : model.slice(colon + 1);
  const hash = rest.lastIndexOf('#');
  return { provider, modelId: hash < 0 ? rest : rest.slice(hash + 1) };
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
  defaults?: CapabilityRouteOptions;
  /**
   * The classifier fitted on the capabilities' texts that helps order candidates (see
   * `CapabilityRegistryOptions.classifier`); `false` ranks by similarity alone. Default on.
   */
  classifier?: CapabilityClassifierOptions | false;
  /**
   * Word-level alignment of the task with each candidate's texts, added to its score (see
   * `CapabilityRegistryOptions.alignment`); `false` turns it off. Default on with the word vectors.
   */
  alignment?: { weight?: number } | false;
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
    ...(options.classifier === undefined ? {} : { classifier: options.classifier }),
    ...(options.alignment === undefined ? {} : { alignment: options.alignment }),
  });
}
