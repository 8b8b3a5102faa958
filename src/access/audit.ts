import { ConfigError, InvalidArgumentError } from '../errors.ts';
import { toMilliseconds } from '../engine/duration.ts';
import type { AccessDecisionPayload, JournalEvent } from '../journal/events.ts';
import type { Store } from '../store/store.ts';
import { isBatonAction } from './access-request.ts';
import { describeChain } from './identity-chain.ts';

export interface AuditQuery {
  /** The acting agent: `writer` or `agent:writer` (or any actor, `service:cron`). `*` for any run of characters. */
  agent?: string;
  /**
   * A Cedar action (`InvokeTool`, `HandOff`…) or a grant action, with `*` allowed
   * (`tool:payments.refund`, `tool:email.*`, `handoff:*`).
   */
  action?: string;
  /** A principal the action was done as or for: the actor, or anyone in its chain (`user:alice`). */
  as?: string;
  /** From this time: a Date, an ISO-8601 text, epoch ms, or a duration back from now (`24h`, `7d`). */
  since?: Date | string | number;
  until?: Date | string | number;
  tenant?: string;
  decision?: 'allow' | 'deny';
  runId?: string;
  /** Default 1000. */
  limit?: number;
  /** For durations in `since`/`until`. Default Date.now(). */
  now?: number;
}

/** One authorized (or refused) action: who did what, for whom, under which authorization. */
export interface AuditEntry {
  at: string;
  runId: string;
  seq: number;
  actor: string;
  onBehalfOf: string[];
  /** `agent:writer for agent:planner for user:alice` */
  chain: string;
  action: string;
  resource: string;
  decision: 'allow' | 'deny';
  reason: string;
  policies: string[];
  errors: string[];
  grantId?: string;
  grantAction: string;
}

/**
 * Lists authorization decisions from the journal (`tool.authorized`, `access.decided`), oldest
 * first: `baton audit --agent writer --action 'tool:email.*' --as user:alice --since 7d`.
 * Needs a store with `queryEvents`.
 *
 * @example const denied = await audit(store, { as: 'user:alice', decision: 'deny', since: '24h' });
 */
export async function audit(store: Store, query: AuditQuery = {}): Promise<AuditEntry[]> {
  if (!store.queryEvents) {
    throw new ConfigError(
      `The store at ${store.location} cannot answer audit queries (it has no queryEvents).`,
    );
  }
  const now = query.now ?? Date.now();
  const payload: Record<string, string> = {};
  if (query.action !== undefined) {
    if (isBatonAction(query.action)) payload.action = query.action;
    else payload.grantAction = query.action;
  }
  if (query.decision !== undefined) payload.decision = query.decision;
  const actor =
    query.agent === undefined ? undefined : query.agent.includes(':') ? query.agent : `agent:${query.agent}`;
  const events = await store.queryEvents({
    types: ['tool.authorized', 'access.decided'],
    ...(query.tenant === undefined ? {} : { tenant: query.tenant }),
    ...(query.runId === undefined ? {} : { runId: query.runId }),
    ...(actor === undefined ? {} : { actor }),
    ...(query.as === undefined ? {} : { identity: query.as }),
    ...(query.since === undefined ? {} : { since: toTime(query.since, now, 'since') }),
    ...(query.until === undefined ? {} : { until: toTime(query.until, now, 'until') }),
    ...(Object.keys(payload).length ? { payload } : {}),
    limit: query.limit ?? 1000,
  });
  return events.map(toEntry);
}

function toEntry(event: JournalEvent): AuditEntry {
  const payload = event.payload as AccessDecisionPayload;
  return {
    at: event.at,
    runId: event.runId,
    seq: event.seq,
    actor: event.actor,
    onBehalfOf: event.onBehalfOf,
    chain: describeChain(event),
    action: payload.action,
    resource: payload.resource,
    decision: payload.decision,
    reason: payload.reason,
    policies: payload.policies,
    errors: payload.errors,
    grantAction: payload.grantAction,
    ...(payload.grantId === undefined ? {} : { grantId: payload.grantId }),
  };
}

/** A time as epoch ms: a Date, ISO-8601, epoch ms, or a duration back from `now` (`24h`). */
function toTime(value: Date | string | number, now: number, what: string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d|w)/.test(value.trim())) return now - toMilliseconds(value, what);
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new InvalidArgumentError(
      `Cannot read '${value}' as a time for --${what}: use ISO-8601 (2025-01-31T00:00:00Z) or a duration (24h, 7d).`,
    );
  }
  return time;
}

/** Entries as an aligned text table, for people. */
export function formatAuditTable(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return '(no authorization decisions match)';
  const rows = entries.map((entry) => [
    entry.at,
    `${entry.runId}#${entry.seq}`,
    entry.decision.toUpperCase(),
    `${entry.action} ${entry.resource}`,
    entry.chain,
    entry.grantId ?? '-',
    entry.policies.length ? entry.policies.join(',') : entry.reason,
  ]);
  const header = ['AT', 'RUN#SEQ', 'DECISION', 'ACTION', 'CHAIN', 'GRANT', 'POLICIES / REASON'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
