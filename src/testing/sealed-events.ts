import { JOURNAL_FORMAT, type EventDraft, type JournalEvent } from '../journal/events.ts';
import { GENESIS_HASH, sealEvent } from '../journal/hash-chain.ts';
import type { NewRun, RunRecord } from '../store/store.ts';

/** The sealed `run.started` event a start writes for `run`: at its creation, by its principal. */
export function startedEvent(run: NewRun): JournalEvent<'run.started'> {
  return sealEvent<'run.started'>({
    runId: run.runId,
    seq: 1,
    type: 'run.started',
    at: new Date(run.createdAt).toISOString(),
    actor: run.principal,
    onBehalfOf: [],
    payload: {
      workflow: run.workflow,
      input: run.input,
      format: JOURNAL_FORMAT,
      flags: [],
      ...(run.parentRunId === undefined ? {} : { parentRunId: run.parentRunId }),
      ...(run.idempotencyKey === undefined ? {} : { idempotencyKey: run.idempotencyKey }),
    },
    prevHash: GENESIS_HASH,
  });
}

/**
 * Seals drafts, each written at its own time, as the events that follow the run's head: by the
 * run's workflow on behalf of its principal unless a draft names others.
 */
export function sealDrafts(run: RunRecord, drafts: readonly (EventDraft & { at: number })[]): JournalEvent[] {
  let prevHash = run.headHash;
  let seq = run.lastSeq;
  return drafts.map((draft) => {
    const event = sealEvent({
      ...draft,
      runId: run.runId,
      seq: ++seq,
      at: new Date(draft.at).toISOString(),
      actor: draft.actor ?? `workflow:${run.workflow}`,
      onBehalfOf: draft.onBehalfOf ?? [run.principal],
      prevHash,
    });
    prevHash = event.hash;
    return event;
  });
}
