import type { AgentDefinition } from '../agents/agent.ts';
import { DEFAULT_PRICES, findPrice, type PriceTable } from '../agents/prices.ts';
import type { Capability } from './capability-registry.ts';

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
