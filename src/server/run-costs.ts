import type { JournalEvent, JournalEventPayloads } from '../journal/events.ts';
import { roundUsd } from '../rounding.ts';

export interface CostLine {
  usd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
  /** Calls whose model has no price (their cost counts as 0). */
  unpriced: number;
}

export interface CostReport {
  total: CostLine;
  byAgent: (CostLine & { agent: string })[];
  byModel: (CostLine & { model: string })[];
  byRun?: (CostLine & { runId: string })[];
}

/** The journal event types that carry model spend. */
export const COST_EVENT_TYPES = ['llm.called', 'model.attempted'] as const;

/**
 * What model calls cost, from the journal: each `llm.called` (an agent's model call) and each
 * `model.attempted` (a routed call's attempt, with its judge) counted once, by agent and by model.
 * `agent.completed` sums are not added again.
 */
export function costReport(events: readonly JournalEvent[], options: { byRun?: boolean } = {}): CostReport {
  const total = emptyLine();
  const agents = new Map<string, CostLine>();
  const models = new Map<string, CostLine>();
  const runs = new Map<string, CostLine>();
  const add = (
    agent: string,
    model: string,
    runId: string,
    usd: number,
    inputTokens: number,
    outputTokens: number,
    priced: boolean,
  ): void => {
    for (const line of [
      total,
      lineOf(agents, agent),
      lineOf(models, model),
      ...(options.byRun ? [lineOf(runs, runId)] : []),
    ]) {
      line.usd += usd;
      line.inputTokens += inputTokens;
      line.outputTokens += outputTokens;
      line.calls += 1;
      if (!priced) line.unpriced += 1;
    }
  };
  for (const event of events) {
    if (event.type === 'llm.called') {
      const payload = event.payload as JournalEventPayloads['llm.called'];
      add(
        payload.name,
        `${payload.provider}:${payload.model}`,
        event.runId,
        payload.cost.usd,
        payload.usage.inputTokens,
        payload.usage.outputTokens,
        payload.cost.priced,
      );
    } else if (event.type === 'model.attempted') {
      const payload = event.payload as JournalEventPayloads['model.attempted'];
      const agent = payload.agent ?? `(${payload.name})`;
      add(
        agent,
        payload.model,
        event.runId,
        payload.costUsd,
        payload.usage.inputTokens,
        payload.usage.outputTokens,
        true,
      );
      const judge = payload.verdict?.judge;
      if (judge)
        add(
          agent,
          judge.model,
          event.runId,
          judge.costUsd,
          judge.usage.inputTokens,
          judge.usage.outputTokens,
          true,
        );
    }
  }
  const sorted = <K extends string>(map: Map<string, CostLine>, key: K): (CostLine & Record<K, string>)[] =>
    [...map.entries()]
      .map(([name, line]) => ({ [key]: name, ...round(line) }) as CostLine & Record<K, string>)
      .sort((a, b) => b.usd - a.usd || b.calls - a.calls);
  return {
    total: round(total),
    byAgent: sorted(agents, 'agent'),
    byModel: sorted(models, 'model'),
    ...(options.byRun ? { byRun: sorted(runs, 'runId') } : {}),
  };
}

function emptyLine(): CostLine {
  return { usd: 0, inputTokens: 0, outputTokens: 0, calls: 0, unpriced: 0 };
}

function lineOf(map: Map<string, CostLine>, key: string): CostLine {
  let line = map.get(key);
  if (!line) map.set(key, (line = emptyLine()));
  return line;
}

/** Dollars to a millionth of a cent, so sums of floats print cleanly. */
function round(line: CostLine): CostLine {
  return { ...line, usd: roundUsd(line.usd) };
}
