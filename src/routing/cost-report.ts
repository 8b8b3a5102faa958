import type { JournalEvent, JournalEventPayloads } from '../journal/events.ts';

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
  /** Model calls answered from the semantic cache (they cost nothing). */
  cacheHits: number;
}

/**
 * Adds up what model calls cost, per run, agent and model, from journal events: every
 * `model.attempted` (and the judge call inside its verdict), and `llm.called` events that carry
 * `model`, `usage` and `costUsd`. Pass the events of one run or of many (`store.readEvents` per run).
 *
 * @example
 * const report = costReport(await baton.handle(runId).history());
 * console.log(report.byModel['openai:gpt-4.1-mini']?.costUsd);
 */
export function costReport(events: Iterable<JournalEvent>): CostReport {
  const report: CostReport = { total: line(), byRun: {}, byAgent: {}, byModel: {}, cacheHits: 0 };
  const add = (runId: string, agent: string, model: string, usage: { inputTokens: number; outputTokens: number }, costUsd: number) => {
    for (const target of [report.total, at(report.byRun, runId), at(report.byAgent, agent), at(report.byModel, model)]) {
      target.calls++;
      target.inputTokens += usage.inputTokens;
      target.outputTokens += usage.outputTokens;
      target.costUsd = Math.round((target.costUsd + costUsd) * 1e9) / 1e9;
    }
  };
  for (const event of events) {
    if (event.type === 'model.attempted') {
      const payload = event.payload as JournalEventPayloads['model.attempted'];
      const agent = payload.agent ?? event.actor;
      add(event.runId, agent, payload.model, payload.usage, payload.costUsd);
      const judge = payload.verdict?.judge;
      if (judge) add(event.runId, agent, judge.model, judge.usage, judge.costUsd);
    } else if (event.type === 'cache.hit') {
      report.cacheHits++;
    } else if ((event.type as string) === 'llm.called') {
      const payload = event.payload as { model?: unknown; usage?: { inputTokens?: number; outputTokens?: number }; costUsd?: unknown; agent?: unknown };
      if (typeof payload.model !== 'string') continue;
      add(
        event.runId,
        typeof payload.agent === 'string' ? payload.agent : event.actor,
        payload.model,
        { inputTokens: payload.usage?.inputTokens ?? 0, outputTokens: payload.usage?.outputTokens ?? 0 },
        typeof payload.costUsd === 'number' ? payload.costUsd : 0,
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
