import type { JournalEvent } from '../journal/events.ts';
import { CLOSING_PARTS, OPENING_PART, type StreamPartRecord } from '../store/run-streams.ts';
import { isTerminal, type RunRecord, type Store, type TenantScope } from '../store/store.ts';
import { RunNotFoundError } from '../errors.ts';
import {
  formatCursor,
  parseCursor,
  partOf,
  type RunStreamPart,
  type StreamPosition,
} from './run-stream-parts.ts';
import { StreamCursorError } from './stream-errors.ts';
import type { StreamWakes } from './stream-wakes.ts';

export interface RunStreamReadOptions {
  /** Resume after this cursor (a part's `cursor`, or SSE's Last-Event-ID). Default: from the start. */
  after?: string;
  /** Stops reading: the iteration ends. */
  signal?: AbortSignal;
  /** Read only a run of this tenant (a run of another is not found). */
  scope?: TenantScope;
  /** Without news, look again this often (ms). Default 100. */
  pollMs?: number;
}

export interface RunStreamSource {
  store: Store;
  wakes: StreamWakes;
  clock: () => number;
}

const PAGE = 512;

/**
 * A run's live stream: its journal events and its ephemeral parts, interleaved (a part follows the
 * events committed before it was written), from `after` on, then live until the run finishes.
 * Pull-based: nothing is read ahead of the consumer, so a reader that stops reading holds one page
 * at most and never slows the run. Throws RunNotFoundError, StreamCursorError (a cursor of another
 * run, malformed, or ahead of the run) and StreamReadersExhaustedError before the first part.
 *
 * A model call left open by a worker that died (its lease expired) or by a run that finished is
 * closed with an `interrupted` part; when the run resumes, its stream goes on with the call sent
 * again.
 */
export async function* readRunStream(
  source: RunStreamSource,
  runId: string,
  options: RunStreamReadOptions = {},
): AsyncGenerator<RunStreamPart, void, undefined> {
  const { store, wakes } = source;
  const streams = store.runStreams;
  const pollMs = options.pollMs ?? 100;
  let run = await mustGetRun(store, runId, options.scope);
  const position = parseCursor(runId, options.after);
  const bounds = streams ? await streams.partBounds(runId) : { first: 0, last: 0 };
  checkNotAhead(runId, options.after, position, run, bounds.last);
  const release = wakes.admit();
  /** The lease (its expiry) last checked for calls a dead worker left open; null: none yet. */
  let checkedLease: number | undefined | null = null;
  let parkedAt: number | undefined;
  /** Model calls this reader saw start and not end; and whether calls it did not see may be open. */
  const openOps = new Set<number>();
  let unseenMayBeOpen = position.part > 0;
  try {
    if (bounds.first > position.part + 1) {
      const missed = bounds.first - position.part - 1;
      position.part = bounds.first - 1;
      unseenMayBeOpen = true;
      yield { type: 'pruned', missed, cursor: formatCursor(runId, position) };
    }
    while (!options.signal?.aborted) {
      const parts = streams ? await streams.readParts(runId, position.part, PAGE) : [];
      run = await mustGetRun(store, runId, options.scope);
      const events =
        position.seq < run.lastSeq ? await store.readEvents(runId, position.seq + 1, options.scope) : [];
      for (const item of interleave(events, parts)) {
        if ('seq' in item) position.seq = item.seq;
        else position.part = item.id;
        const cursor = formatCursor(runId, position);
        if (!('seq' in item)) trackOpenCalls(openOps, item);
        yield 'seq' in item ? { type: 'event', event: item, cursor } : partOf(item, cursor);
        if (options.signal?.aborted) return;
      }
      if (parts.length === PAGE || events.length > 0) continue;
      const now = source.clock();
      const leaseLapsed =
        run.status === 'running' && run.leaseExpiresAt !== undefined && run.leaseExpiresAt < now;
      const mayBeOpen = openOps.size > 0 || unseenMayBeOpen;
      if (
        streams &&
        mayBeOpen &&
        (isTerminal(run.status) || leaseLapsed) &&
        checkedLease !== run.leaseExpiresAt
      ) {
        checkedLease = run.leaseExpiresAt;
        unseenMayBeOpen = false;
        const interrupted = await streams
          .interruptOpenCalls(
            runId,
            now,
            isTerminal(run.status) ? `the run ${run.status}` : 'the worker stopped (its lease expired)',
          )
          .catch(() => undefined);
        if (interrupted) continue;
      }
      if (run.status === 'waiting' && position.seq >= run.lastSeq && parkedAt !== run.updatedAt) {
        parkedAt = run.updatedAt;
        yield { type: 'waiting', cursor: formatCursor(runId, position) };
      }
      if (isTerminal(run.status) && position.seq >= run.lastSeq) {
        yield {
          type: 'end',
          status: run.status,
          lastSeq: run.lastSeq,
          cursor: formatCursor(runId, position),
        };
        return;
      }
      await wakes.wait(runId, pollMs, options.signal);
    }
  } finally {
    release();
  }
}

async function mustGetRun(store: Store, runId: string, scope: TenantScope | undefined): Promise<RunRecord> {
  const run = await store.getRun(runId, scope);
  if (!run) throw new RunNotFoundError({ runId });
  return run;
}

function checkNotAhead(
  runId: string,
  cursor: string | undefined,
  position: StreamPosition,
  run: RunRecord,
  lastPart: number,
): void {
  if (cursor === undefined) return;
  if (position.seq > run.lastSeq)
    throw new StreamCursorError({
      runId,
      cursor,
      reason: 'ahead',
      detail: `seq ${position.seq}, the journal ends at ${run.lastSeq}`,
    });
  if (position.part > lastPart)
    throw new StreamCursorError({
      runId,
      cursor,
      reason: 'ahead',
      detail: `part ${position.part}, the stream ends at ${lastPart}`,
    });
}

/** Follows which model calls are open (started, not finished nor interrupted) in the parts read. */
function trackOpenCalls(open: Set<number>, part: StreamPartRecord): void {
  if (part.type === OPENING_PART && part.op !== undefined) open.add(part.op);
  else if (part.type === 'interrupted') open.clear();
  else if (CLOSING_PARTS.includes(part.type) && part.op !== undefined) open.delete(part.op);
}

/** Events and parts in stream order: a part after the events committed before it was written. */
function* interleave(
  events: readonly JournalEvent[],
  parts: readonly StreamPartRecord[],
): Generator<JournalEvent | StreamPartRecord> {
  let next = 0;
  for (const part of parts) {
    while (next < events.length && events[next]!.seq <= part.afterSeq) yield events[next++]!;
    yield part;
  }
  while (next < events.length) yield events[next++]!;
}
