import { RunNotFoundError } from '../errors.ts';
import { JOURNAL_FORMAT, type JournalEvent } from '../journal/events.ts';
import type { RunRecord, Store, TenantScope } from '../store/store.ts';
import { HistoryFormatError, InvalidHistoryError } from './explain-errors.ts';
import { suggestRunIds } from './suggest-run-ids.ts';

/**
 * A run's journal as a file (`baton export <run> --format json`): what golden-history tests replay
 * (`replayHistories`) and what `baton replay --file` reads. Format 1.
 */
export interface HistoryDocument {
  kind: 'baton.history';
  /** The version of this document's shape. */
  version: 1;
  /** The journal format its events were written in (`run.started` says it too). */
  journalFormat: number;
  run: {
    runId: string;
    workflow: string;
    status: string;
    tenant: string;
    principal: string;
    createdAt: string;
  };
  events: JournalEvent[];
}

export type HistoryExportFormat = 'json' | 'ndjson';

/**
 * A run's journal, exported: `json` is one {@link HistoryDocument}; `ndjson` is the document's
 * header (without events) on the first line, then one event per line.
 *
 * @throws RunNotFoundError (with near matches).
 */
export async function exportHistory(
  store: Store,
  runId: string,
  options: { format?: HistoryExportFormat; tenant?: string } = {},
): Promise<string> {
  const scope: TenantScope | undefined =
    options.tenant === undefined ? undefined : { tenant: options.tenant };
  const run = await store.getRun(runId, scope);
  if (!run) throw new RunNotFoundError({ runId, suggestions: await suggestRunIds(store, runId, scope) });
  const document = historyDocument(run, await store.readEvents(runId, 1, scope));
  if (options.format === 'ndjson') {
    const { events, ...header } = document;
    return [JSON.stringify(header), ...events.map((event) => JSON.stringify(event))].join('\n') + '\n';
  }
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function historyDocument(run: RunRecord, events: JournalEvent[]): HistoryDocument {
  const format = (events[0]?.payload as { format?: unknown } | undefined)?.format;
  return {
    kind: 'baton.history',
    version: 1,
    journalFormat: typeof format === 'number' ? format : JOURNAL_FORMAT,
    run: {
      runId: run.runId,
      workflow: run.workflow,
      status: run.status,
      tenant: run.tenant,
      principal: run.principal,
      createdAt: new Date(run.createdAt).toISOString(),
    },
    events,
  };
}

/**
 * Reads a run's events from an exported file: a history document (JSON or NDJSON), an audit
 * bundle (`baton export` without `--format`), or a bare JSON array of events. Checks that they
 * are one run's journal from its start, in order, in a journal format this Baton reads.
 *
 * @throws InvalidHistoryError naming what is wrong, HistoryFormatError for a newer journal format.
 */
export function parseHistory(text: string, source = 'the history'): JournalEvent[] {
  let events: unknown;
  const trimmed = text.trim();
  if (trimmed === '') throw new InvalidHistoryError({ source, reason: 'it is empty' });
  try {
    const value = JSON.parse(trimmed) as unknown;
    events = Array.isArray(value) ? value : (value as { events?: unknown }).events;
  } catch {
    // Not one JSON document: NDJSON, one event (or the header) per line.
    const lines = trimmed.split('\n').filter((entry) => entry.trim() !== '');
    try {
      events = lines
        .map((entry) => JSON.parse(entry) as unknown)
        .filter((value) => (value as { kind?: unknown }).kind !== 'baton.history');
    } catch (error) {
      throw new InvalidHistoryError({
        source,
        reason: `it is neither JSON nor JSON lines (${(error as Error).message})`,
      });
    }
  }
  return checkHistory(events, source);
}

/** Checks events are a run's journal from its start; see {@link parseHistory}. */
export function checkHistory(events: unknown, source = 'the history'): JournalEvent[] {
  if (!Array.isArray(events) || events.length === 0)
    throw new InvalidHistoryError({ source, reason: 'it holds no events' });
  events.forEach((event, index) => {
    const candidate = event as Partial<JournalEvent>;
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.type !== 'string' ||
      typeof candidate.seq !== 'number' ||
      typeof candidate.runId !== 'string'
    ) {
      throw new InvalidHistoryError({
        source,
        reason: `entry ${index + 1} is not a journal event (it needs runId, seq and type)`,
      });
    }
    if (candidate.seq !== index + 1)
      throw new InvalidHistoryError({
        source,
        reason: `entry ${index + 1} has seq ${candidate.seq}; a history starts at seq 1, with no gap`,
      });
  });
  const journal = events as JournalEvent[];
  const started = journal[0]!;
  if (started.type !== 'run.started')
    throw new InvalidHistoryError({ source, reason: `it starts with ${started.type}, not run.started` });
  const other = journal.find((event) => event.runId !== started.runId);
  if (other)
    throw new InvalidHistoryError({ source, reason: `it mixes runs ${started.runId} and ${other.runId}` });
  const format = (started.payload as { format?: unknown }).format;
  if (typeof format !== 'number')
    throw new InvalidHistoryError({ source, reason: 'its run.started names no journal format' });
  if (format > JOURNAL_FORMAT)
    throw new HistoryFormatError({ source, runId: started.runId, found: format, supported: JOURNAL_FORMAT });
  return journal;
}
