import { isAgentDefinition } from '../agents/agent.ts';
import type { WorkflowContext } from '../engine/context.ts';
import type { RouteCandidateRecord } from '../journal/events.ts';
import { capabilityOf } from '../agents/agent-capabilities.ts';
import { CapabilityRegistry } from '../routing/capability-registry.ts';
import { LexicalEmbedder } from '../routing/lexical-embedder.ts';
import type { CodeWorker, Plan } from './plan-types.ts';

const registries = new WeakMap<object, Promise<CapabilityRegistry>>();

/** Routes a capability among the plan's workers through the capability index, with the plan's cost bias. */
export async function router<Context extends WorkflowContext>(
  definition: Plan<Context>,
): Promise<
  (capability: string) => Promise<{ chosen?: string; candidates: RouteCandidateRecord[]; reason: string }>
> {
  const { workers, routing } = definition.options;
  let opened = definition.options.registry
    ? Promise.resolve(definition.options.registry)
    : registries.get(definition);
  if (!opened) {
    const capabilities = Object.entries(workers).map(([name, worker]) =>
      isAgentDefinition(worker)
        ? { ...capabilityOf(worker), name }
        : { name, description: worker.description, cost: (worker as CodeWorker).cost ?? 1, kind: 'code' },
    );
    opened = CapabilityRegistry.open({
      embedder: new LexicalEmbedder().fit(capabilities.map((capability) => capability.description)),
      capabilities,
    });
    registries.set(definition, opened);
  }
  const registry = await opened;
  const candidates = Object.keys(workers).filter((name) => registry.has(name));
  return async (capability: string) => {
    if (candidates.length === 0)
      return { candidates: [], reason: 'no worker of this plan is in the capability index' };
    const ranking = await registry.rank(capability, {
      k: Math.min(3, candidates.length),
      candidates,
      ...(routing?.costBias === undefined ? {} : { costBias: routing.costBias }),
      ...(routing?.minScore === undefined ? {} : { minScore: routing.minScore }),
    });
    return {
      ...(ranking.chosen ? { chosen: ranking.chosen.name } : {}),
      candidates: ranking.candidates.map(({ name, similarity, cost, score, eligible }) => ({
        name,
        similarity,
        cost,
        score,
        eligible,
      })),
      reason: ranking.reason,
    };
  };
}
