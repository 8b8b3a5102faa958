import type { JournalEvent } from '../journal/events.ts';

export interface CostLine {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface CostReport {
  total: CostLine;
  byRun: Record<string, CostLine>;
  byAgent: Record<string, CostLine>;
  byModel: Record<string, CostLine>;
  /** Model calls answered from the semantic cache (they cost nothing and are not counted as calls). */
  cacheHits: number;
}

/**
 * Adds up what model calls cost, per run, agent and model, from journal events: every agent model
 * call (`llm.called`, by its actor `agent:<name>`), every routed call's attempts (`model.attempted`,
 * and the judge call inside a verdict), the judge that accepted an agent's routed turn
 * (`model.routed.judge`), and counts cache hits (`cache.hit`, and `llm.called` answered from the
 * cache). Pass the events of one run or of many.
 *
 * @example
 * const report = costReport(await baton.handle(runId).history());
 * console.log(report.byModel['openai:gpt-4.1-mini']?.costUsd);
 */
export function costReport(events: Iterable<JournalEvent>): CostReport {
  const report: CostReport = { total: line(), byRun: {}, byAgent: {}, byModel: {}, cacheHits: 0 };
  const add = (
    runId: string,
    agent: string,
    model: string,
    usage: { inputTokens: number; outputTokens: number },
    costUsd: number,
  ) => {
    for (const target of [
      report.total,
      at(report.byRun, runId),
      at(report.byAgent, agent),
      at(report.byModel, model),
    ]) {
      target.calls++;
      target.inputTokens += usage.inputTokens;
      target.outputTokens += usage.outputTokens;
      target.costUsd = Math.round((target.costUsd + costUsd) * 1e9) / 1e9;
    }
  };
  for (const event of events) {
    if (event.type === 'model.attempted') {
      const payload = event.payload;
      const agent = payload.agent ?? event.actor;
      add(event.runId, agent, payload.model, payload.usage, payload.costUsd);
      const judge = payload.verdict?.judge;
      if (judge) add(event.runId, agent, judge.model, judge.usage, judge.costUsd);
    } else if (event.type === 'model.routed') {
      const payload = event.payload;
      if (payload.judge)
        add(
          event.runId,
          payload.agent ?? event.actor,
          payload.judge.model,
          payload.judge.usage,
          payload.judge.costUsd,
        );
    } else if (event.type === 'cache.hit') {
      report.cacheHits++;
    } else if (event.type === 'llm.called') {
      const payload = event.payload;
      if (payload.cache) {
        report.cacheHits++;
        continue;
      }
      add(
        event.runId,
        event.actor,
        `${payload.provider.split('.')[0]}:${payload.response.modelId ?? payload.model}`,
        { inputTokens: payload.usage.inputTokens, outputTokens: payload.usage.outputTokens },
        payload.cost.usd,
      );
    }
  }
  return report;
}

function line(): CostLine {
  return { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
}

function at(record: Record<string, CostLine>, key: string): CostLine {
  return (record[key] ??= line());
}
