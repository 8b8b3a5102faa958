import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { JournalEvent } from '../journal/events.ts';
import { costEntriesOf } from '../journal/run-model/cost-entries.ts';
import type { CostEntry } from '../journal/run-model/run-model.ts';
import type { PoolEvent } from '../resources/pool-metrics.ts';
import type { PoolStats } from '../resources/pool-stats.ts';
import type { JournalWrite } from '../store/store.ts';

/** What the metrics read of a Baton's resource pools: their events in this process and their totals across processes. */
export interface PoolSource {
  subscribe(listener: (event: PoolEvent) => void): () => void;
  stats(): Promise<PoolStats[]>;
}

/** An instrument as OpenTelemetry shows it. */
type Instrument = readonly [name: string, unit: string, description: string];

const INSTRUMENTS = {
  tokenUsage: ['gen_ai.client.token.usage', '{token}', 'Tokens used by model calls'],
  duration: ['gen_ai.client.operation.duration', 's', 'Duration of model and tool calls'],
  cost: ['baton.cost', 'USD', 'What model calls cost'],
  tokens: ['baton.tokens', '{token}', 'Tokens used by model calls'],
  runs: ['baton.runs.finished', '{run}', 'Runs that completed, failed or were cancelled'],
  toolCalls: ['baton.tool.calls', '{call}', 'Tool calls, by the decision that let them run or not'],
  poolWait: ['baton.pool.wait', 's', 'How long calls waited for a pool slot'],
  poolHold: ['baton.pool.hold', 's', 'How long calls held a pool slot'],
  poolRefusals: ['baton.pool.refusals', '{call}', 'Calls refused a pool slot'],
  poolInFlight: ['baton.pool.in_flight', '{call}', 'Calls holding a pool slot, in every process'],
  poolQueued: ['baton.pool.queued', '{call}', 'Calls waiting for a pool slot, in every process'],
  poolUtilization: ['baton.pool.utilization', '1', 'Used fraction of a pool limit'],
} as const satisfies Record<string, Instrument>;

/**
 * OpenTelemetry metrics from committed journal events (so replays never count twice) and from
 * resource pools:
 * - `gen_ai.client.token.usage` (histogram, `{token}`, by `gen_ai.token.type`) and
 *   `gen_ai.client.operation.duration` (histogram, s) per the GenAI semantic conventions;
 * - `baton.cost` (counter, USD) and `baton.tokens` (counter) by model, agent and workflow;
 * - `baton.runs.finished` (counter, by status) and `baton.tool.calls` (counter, by decision);
 * - `baton.pool.wait` and `baton.pool.hold` (histograms, s), `baton.pool.refusals` (counter), and
 *   the gauges `baton.pool.in_flight`, `baton.pool.queued`, `baton.pool.utilization` (read from
 *   `pools.stats()` at each collection).
 */
export class JournalMetrics {
  readonly #tokenUsage: Histogram;
  readonly #duration: Histogram;
  readonly #cost: Counter;
  readonly #tokens: Counter;
  readonly #runs: Counter;
  readonly #toolCalls: Counter;
  readonly #unsubscribe: (() => void) | undefined;

  constructor(meter: Meter, pools?: PoolSource) {
    const histogram = ([name, unit, description]: Instrument) =>
      meter.createHistogram(name, { unit, description });
    const counter = ([name, unit, description]: Instrument) =>
      meter.createCounter(name, { unit, description });
    const gauge = ([name, unit, description]: Instrument) =>
      meter.createObservableGauge(name, { unit, description });
    this.#tokenUsage = histogram(INSTRUMENTS.tokenUsage);
    this.#duration = histogram(INSTRUMENTS.duration);
    this.#cost = counter(INSTRUMENTS.cost);
    this.#tokens = counter(INSTRUMENTS.tokens);
    this.#runs = counter(INSTRUMENTS.runs);
    this.#toolCalls = counter(INSTRUMENTS.toolCalls);
    if (!pools) return;
    const wait = histogram(INSTRUMENTS.poolWait);
    const hold = histogram(INSTRUMENTS.poolHold);
    const refusals = counter(INSTRUMENTS.poolRefusals);
    this.#unsubscribe = pools.subscribe((event) => {
      if (event.type === 'pool.granted') wait.record(event.waitedMs / 1000, { 'baton.pool': event.pool });
      else if (event.type === 'pool.released')
        hold.record(event.heldMs / 1000, { 'baton.pool': event.pool, 'baton.pool.outcome': event.outcome });
      else if (event.type === 'pool.refused')
        refusals.add(1, { 'baton.pool': event.pool, 'baton.pool.reason': event.reason });
    });
    const inFlight = gauge(INSTRUMENTS.poolInFlight);
    const queued = gauge(INSTRUMENTS.poolQueued);
    const utilization = gauge(INSTRUMENTS.poolUtilization);
    meter.addBatchObservableCallback(
      async (result) => {
        for (const stats of await pools.stats()) {
          const attributes = { 'baton.pool': stats.pool };
          result.observe(inFlight, stats.inFlight, attributes);
          result.observe(queued, stats.queued, attributes);
          for (const [limit, used] of Object.entries(stats.utilization)) {
            if (used !== undefined)
              result.observe(utilization, used, { ...attributes, 'baton.pool.limit': limit });
          }
        }
      },
      [inFlight, queued, utilization],
    );
  }

  record(writes: readonly JournalWrite[]): void {
    for (const write of writes) for (const event of write.events) this.#event(event);
  }

  close(): void {
    this.#unsubscribe?.();
  }

  #event(event: JournalEvent): void {
    for (const charge of costEntriesOf(event, workflowOf(event))) this.#charge(charge, event);
    switch (event.type) {
      case 'llm.called': {
        const payload = event.payload;
        this.#duration.record(payload.latencyMs / 1000, {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': payload.provider,
          'gen_ai.request.model': payload.model,
          'gen_ai.agent.name': payload.name,
          'baton.workflow': workflowOf(event),
        });
        break;
      }
      case 'tool.called':
      case 'tool.failed': {
        const payload = event.payload as { name: string; latencyMs?: number };
        const attributes: Attributes = {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': payload.name,
          'baton.workflow': workflowOf(event),
        };
        if (typeof payload.latencyMs === 'number')
          this.#duration.record(payload.latencyMs / 1000, attributes);
        this.#toolCalls.add(1, {
          ...attributes,
          'baton.decision': 'allow',
          'baton.outcome': event.type === 'tool.called' ? 'ok' : 'failed',
        });
        break;
      }
      case 'tool.authorized': {
        const payload = event.payload;
        if (payload.decision === 'deny')
          this.#toolCalls.add(1, {
            'gen_ai.tool.name': payload.name,
            'baton.decision': 'deny',
            'baton.workflow': workflowOf(event),
          });
        break;
      }
      case 'run.completed':
      case 'run.failed':
      case 'run.cancelled':
        this.#runs.add(1, {
          'baton.workflow': workflowOf(event),
          'baton.run.status': event.type.slice('run.'.length),
        });
        break;
    }
  }

  /** A model charge of the run model (the same the cost report adds up): its tokens and cost. */
  #charge(charge: CostEntry, event: JournalEvent): void {
    const attributes: Attributes = {
      'gen_ai.operation.name': 'chat',
      ...(event.type === 'llm.called' ? { 'gen_ai.provider.name': event.payload.provider } : {}),
      'gen_ai.request.model': event.type === 'llm.called' ? event.payload.model : charge.model,
      'gen_ai.agent.name': charge.agent,
      'baton.workflow': charge.workflow,
    };
    this.#usage(attributes, charge.inputTokens, charge.outputTokens);
    this.#cost.add(charge.usd, attributes);
  }

  #usage(attributes: Attributes, input: number, output: number): void {
    this.#tokenUsage.record(input, { ...attributes, 'gen_ai.token.type': 'input' });
    this.#tokenUsage.record(output, { ...attributes, 'gen_ai.token.type': 'output' });
    this.#tokens.add(input, { ...attributes, 'gen_ai.token.type': 'input' });
    this.#tokens.add(output, { ...attributes, 'gen_ai.token.type': 'output' });
  }
}

function workflowOf(event: JournalEvent): string {
  const workflow = [event.actor, ...event.onBehalfOf].find((identity) => identity.startsWith('workflow:'));
  return workflow?.slice('workflow:'.length) ?? 'unknown';
}
