import type { JournalEvent, ModelUsageRecord } from '../events.ts';
import type { CostEntry } from './run-model.ts';

/**
 * The model charges an event records, each once: an agent's model call (`llm.called`, not when the
 * semantic cache answered it), a routed call's attempt (`model.attempted`) and the judge inside its
 * verdict, and the judge that accepted an agent's routed turn (`model.routed.judge`).
 * `agent.completed` sums are not charges (they add up the turns).
 */
export function costEntriesOf(event: JournalEvent, workflow: string): CostEntry[] {
  const entry = (
    source: CostEntry['source'],
    agent: string,
    model: string,
    usage: ModelUsageRecord,
    usd: number,
    priced: boolean,
  ): CostEntry => ({
    runId: event.runId,
    workflow,
    seq: event.seq,
    at: event.at,
    source,
    agent,
    model,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    usd,
    priced,
  });
  switch (event.type) {
    case 'llm.called': {
      const { payload } = event;
      if (payload.cache) return [];
      const model = `${providerName(payload.provider)}:${payload.response.modelId ?? payload.model}`;
      return [entry('turn', payload.name, model, payload.usage, payload.cost.usd, payload.cost.priced)];
    }
    case 'model.attempted': {
      const { payload } = event;
      const agent = payload.agent ?? event.actor;
      const judge = payload.verdict?.judge;
      return [
        entry('attempt', agent, payload.model, payload.usage, payload.costUsd, true),
        ...(judge ? [entry('judge', agent, judge.model, judge.usage, judge.costUsd, true)] : []),
      ];
    }
    case 'model.routed': {
      const { judge, agent } = event.payload;
      return judge
        ? [entry('judge', agent ?? event.actor, judge.model, judge.usage, judge.costUsd, true)]
        : [];
    }
    default:
      return [];
  }
}

/** `openai.chat` → `openai`: the provider as a model id names it. */
function providerName(provider: string): string {
  return provider.split('.')[0] ?? provider;
}
