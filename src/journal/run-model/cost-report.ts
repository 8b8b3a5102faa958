import type { JournalEvent, JournalEventType } from '../events.ts';
import { costEntriesOf } from './cost-entries.ts';
import type { CostEntry, RunModel } from './run-model.ts';

/** What a set of model charges cost, and their tokens. */
export interface CostLine {
  /** Model charges counted (cache hits are not charges). */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Dollars of the priced charges. */
  usd: number;
  /** Charges whose model has no price: their cost is unknown, not $0 (show "unpriced"). */
  unpriced: number;
}

/**
 * What model calls cost, from the run model's charges (`RunModel.costs`): in total, by run, by
 * workflow, by agent, by model and by day (UTC), each list costliest first, and how many calls the
 * semantic cache answered. The server's cost routes, the UI and `costReport(events)` all give this.
 */
export interface CostReport {
  total: CostLine;
  byRun: (CostLine & { runId: string })[];
  byWorkflow: (CostLine & { workflow: string })[];
  byAgent: (CostLine & { agent: string })[];
  byModel: (CostLine & { model: string })[];
  /** By UTC day (`2026-12-07`), oldest first. */
  byDay: (CostLine & { day: string })[];
  /** Model calls answered from the semantic cache (they cost nothing and are not counted as calls). */
  cacheHits: number;
}

/** The journal event types that carry model charges or cache hits: all a cost report reads. */
export const COST_EVENT_TYPES = [
  'llm.called',
  'model.attempted',
  'model.routed',
  'cache.hit',
] as const satisfies readonly JournalEventType[];

/**
 * Adds up what model calls cost from journal events, of one run or of many: each agent model call
 * (`llm.called`), each routed call's attempt (`model.attempted`, with the judge inside its verdict)
 * and the judge that accepted an agent's routed turn (`model.routed`), each counted once; a call the
 * semantic cache answered counts as a cache hit, not a charge.
 *
 * @example
 * const report = costReport(await baton.handle(runId).history());
 * console.log(report.byModel.find((line) => line.model === 'openai:gpt-4.1-mini')?.usd);
 */
export function costReport(events: Iterable<JournalEvent>): CostReport {
  const entries: CostEntry[] = [];
  let cacheHits = 0;
  const workflows = new Map<string, string>();
  for (const event of events) {
    if (event.type === 'run.started') workflows.set(event.runId, event.payload.workflow);
    if (event.type === 'cache.hit' || (event.type === 'llm.called' && event.payload.cache)) cacheHits++;
    entries.push(...costEntriesOf(event, workflows.get(event.runId) ?? workflowOf(event)));
  }
  return reportOf(entries, cacheHits);
}

/** The cost report of run models (one or many runs). */
export function costReportOf(models: readonly RunModel[]): CostReport {
  return reportOf(
    models.flatMap((model) => model.costs),
    models.reduce((sum, model) => sum + model.cacheHits, 0),
  );
}

function reportOf(entries: readonly CostEntry[], cacheHits: number): CostReport {
  const total = emptyLine();
  const groups = {
    runId: new Map<string, CostLine>(),
    workflow: new Map<string, CostLine>(),
    agent: new Map<string, CostLine>(),
    model: new Map<string, CostLine>(),
    day: new Map<string, CostLine>(),
  };
  for (const entry of entries) {
    add(total, entry);
    add(lineOf(groups.runId, entry.runId), entry);
    add(lineOf(groups.workflow, entry.workflow), entry);
    add(lineOf(groups.agent, entry.agent), entry);
    add(lineOf(groups.model, entry.model), entry);
    add(lineOf(groups.day, entry.at.slice(0, 10)), entry);
  }
  const costliest = (a: CostLine, b: CostLine) => b.usd - a.usd || b.calls - a.calls;
  return {
    total: rounded(total),
    byRun: listOf(groups.runId, 'runId').sort(costliest),
    byWorkflow: listOf(groups.workflow, 'workflow').sort(costliest),
    byAgent: listOf(groups.agent, 'agent').sort(costliest),
    byModel: listOf(groups.model, 'model').sort(costliest),
    byDay: listOf(groups.day, 'day').sort((a, b) => a.day.localeCompare(b.day)),
    cacheHits,
  };
}

function add(line: CostLine, entry: CostEntry): void {
  line.calls += 1;
  line.inputTokens += entry.inputTokens;
  line.outputTokens += entry.outputTokens;
  line.usd += entry.usd;
  if (!entry.priced) line.unpriced += 1;
}

function emptyLine(): CostLine {
  return { calls: 0, inputTokens: 0, outputTokens: 0, usd: 0, unpriced: 0 };
}

function lineOf(lines: Map<string, CostLine>, key: string): CostLine {
  let line = lines.get(key);
  if (!line) lines.set(key, (line = emptyLine()));
  return line;
}

function listOf<K extends string>(lines: Map<string, CostLine>, key: K): (CostLine & Record<K, string>)[] {
  return [...lines].map(([name, line]) => ({ ...rounded(line), ...({ [key]: name } as Record<K, string>) }));
}

/** Dollars to a billionth, so sums of floats print cleanly. */
function rounded(line: CostLine): CostLine {
  return { ...line, usd: Math.round(line.usd * 1e9) / 1e9 };
}

function workflowOf(event: JournalEvent): string {
  const workflow = [event.actor, ...event.onBehalfOf].find((identity) => identity.startsWith('workflow:'));
  return workflow?.slice('workflow:'.length) ?? '';
}
