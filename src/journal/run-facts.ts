import { canonicalJson } from './canonical-json.ts';
import type { JournalEvent } from './events.ts';
import { verifyChain } from './hash-chain.ts';

/** What a run's journal says of its end: one of the terminal statuses, or `unfinished`. */
export type JournalRunStatus =
  'completed' | 'failed' | 'cancelled' | 'timed_out' | 'continued' | 'unfinished';

/** The event types that end a run; each is the run's last event. */
export const TERMINAL_EVENT_TYPES: Readonly<Record<string, JournalRunStatus>> = {
  'run.completed': 'completed',
  'run.failed': 'failed',
  'run.cancelled': 'cancelled',
  'run.continued': 'continued',
  'run.timedOut': 'timed_out',
};

/** The status the journal holds once `event` is its last: terminal when it ends the run. */
export function statusAfter(event: JournalEvent | undefined): JournalRunStatus {
  return (event && TERMINAL_EVENT_TYPES[event.type]) ?? 'unfinished';
}

/**
 * What a run's journal holds about the run itself: who started it (the `run.started` actor), for
 * which tenant, with which input, under which parent, and how it ended. Every door shows these from
 * the journal, or checks the store's run record against them (`recordDisagreements`).
 */
export interface RunFacts {
  workflow: string;
  principal: string;
  /** Undefined for a run journaled before the tenant was (and with no grant naming it). */
  tenant: string | undefined;
  input: unknown;
  parentRunId: string | undefined;
  idempotencyKey: string | undefined;
  status: JournalRunStatus;
  /** The `run.completed` result, when the run completed. */
  result?: unknown;
  /** The `run.failed` error, when the run failed. */
  error?: unknown;
}

/** The facts of a run from its events; undefined when the journal does not begin with `run.started`. */
export function runFacts(events: readonly JournalEvent[]): RunFacts | undefined {
  const first = events[0];
  if (!first || first.type !== 'run.started') return undefined;
  const started = first.payload;
  const last = events[events.length - 1];
  const facts: RunFacts = {
    workflow: started.workflow,
    principal: first.actor,
    tenant: started.tenant ?? started.grant?.tenant,
    input: started.input,
    parentRunId: started.parentRunId,
    idempotencyKey: started.idempotencyKey,
    status: statusAfter(last),
  };
  if (last?.type === 'run.completed') facts.result = last.payload.result;
  if (last?.type === 'run.failed' || last?.type === 'run.timedOut')
    facts.error = (last.payload as { error: unknown }).error;
  return facts;
}

/** A field of a run's record that says something other than its journal. */
export interface RecordDisagreement {
  field: 'workflow' | 'principal' | 'tenant' | 'input' | 'parent' | 'status' | 'result' | 'error';
  /** What the journal holds (canonical JSON for values). */
  journal: string;
  /** What the run record holds. */
  record: string;
}

/** The part of a run record a journal can vouch for. */
export interface RunRecordFields {
  workflow: string;
  tenant: string;
  principal: string;
  status: string;
  /** Present in a full run record; a summary without it (a bundle's) is not checked on input, parent, result. */
  input?: unknown;
  result?: unknown;
  error?: unknown;
  parentRunId?: string;
}

const TERMINAL_STATUSES = new Set(['completed', 'failed', 'cancelled', 'timed_out', 'continued']);

/**
 * Where the store's run record disagrees with what the journal holds. An edited row (its principal,
 * tenant, input, result, status or parent) shows here even when the journal itself is intact.
 */
export function recordDisagreements(record: RunRecordFields, facts: RunFacts): RecordDisagreement[] {
  const out: RecordDisagreement[] = [];
  const differ = (field: RecordDisagreement['field'], journal: string, shown: string): void => {
    if (journal !== shown) out.push({ field, journal, record: shown });
  };
  differ('workflow', facts.workflow, record.workflow);
  differ('principal', facts.principal, record.principal);
  if (facts.tenant !== undefined) differ('tenant', facts.tenant, record.tenant);
  // A summary without an input (a bundle's) is checked on workflow, principal, tenant and status.
  const full = 'input' in record;
  if (full) {
    differ('input', encode(facts.input ?? null), encode(record.input ?? null));
    differ('parent', facts.parentRunId ?? '(none)', record.parentRunId ?? '(none)');
  }
  const recordFinished = TERMINAL_STATUSES.has(record.status);
  if (facts.status !== 'unfinished' || recordFinished)
    differ('status', facts.status, recordFinished ? record.status : `${record.status} (unfinished)`);
  if (full && facts.status === 'completed' && record.status === 'completed')
    differ('result', encode(facts.result ?? null), encode(record.result ?? null));
  if (full && (facts.status === 'failed' || facts.status === 'timed_out') && record.status === facts.status)
    differ('error', encode(facts.error ?? null), encode(record.error ?? null));
  return out;
}

/**
 * The record with every field the journal holds taken from the journal: what a door shows.
 * Fields the journal does not hold (lease, priority, times) are the record's.
 */
export function boundToJournal<R extends RunRecordFields>(record: R, facts: RunFacts): R {
  const bound: R = {
    ...record,
    workflow: facts.workflow,
    principal: facts.principal,
    ...(facts.tenant === undefined ? {} : { tenant: facts.tenant }),
    input: facts.input,
  };
  if (facts.parentRunId === undefined) delete bound.parentRunId;
  else bound.parentRunId = facts.parentRunId;
  // An unfinished journal cannot tell pending from running or waiting: that stays the record's
  // (a record that claims an end the journal lacks is a disagreement the door reports).
  if (facts.status !== 'unfinished') bound.status = facts.status;
  delete bound.result;
  delete bound.error;
  if (facts.status === 'completed' && facts.result !== undefined) bound.result = facts.result;
  if (facts.status === 'failed' || facts.status === 'timed_out') bound.error = facts.error;
  return bound;
}

function encode(value: unknown): string {
  try {
    return canonicalJson(value);
  } catch {
    return String(value);
  }
}

/** What a door says of a run it shows: whether its journal chains and its record agrees with it. */
export interface RunEvidence {
  /** True when the journal chains intact to the record's head and the record agrees with it. */
  consistent: boolean;
  /** The first broken link of the chain (or the record's head the journal does not reach), if any. */
  broken?: { seq: number; reason: string };
  disagreements: RecordDisagreement[];
  /** When the door holds the deployment key: its checkpoints, verified (fail closed). */
  signatures?: { ok: boolean; final: boolean; signedSeq?: number; problems: string[] };
}

/**
 * A run as a door shows it: every field the journal holds taken from the journal, with what the
 * door could check. Not a substitute for `baton verify` (no signatures are checked here), but what
 * is shown is never the run record's word alone.
 */
export function journalView<R extends RunRecordFields & { lastSeq: number; headHash: string }>(
  record: R,
  events: readonly JournalEvent[],
): { run: R; evidence: RunEvidence } {
  const chain = verifyChain(events, events[0]?.runId);
  const facts = runFacts(events);
  const disagreements = facts ? recordDisagreements(record, facts) : [];
  let broken: RunEvidence['broken'];
  if (chain.broken)
    broken = {
      seq: chain.broken.seq,
      reason: `${chain.broken.kind} does not match (the journal was edited)`,
    };
  else if (events.length !== record.lastSeq || (events.length > 0 && chain.head !== record.headHash))
    broken = {
      seq: Math.max(events.length, record.lastSeq),
      reason: `the record's head is seq ${record.lastSeq}, the journal ends at seq ${events.length}`,
    };
  else if (!facts) broken = { seq: 1, reason: 'the journal does not begin with run.started' };
  const evidence: RunEvidence = {
    consistent: broken === undefined && disagreements.length === 0,
    disagreements,
    ...(broken ? { broken } : {}),
  };
  return { run: facts ? boundToJournal(record, facts) : record, evidence };
}
