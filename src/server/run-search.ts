import type { Baton } from '../baton.ts';
import type { RunRecord, RunStatus } from '../store/store.ts';
import { HttpError } from './http-error.ts';

/** A search over the runs of one tenant, newest first. */
export interface RunSearch {
  tenant: string;
  status?: RunStatus[];
  workflow?: string;
  /** Part of the workflow name, in any case. */
  workflowContains?: string;
  /** Text in the run id, the workflow, the principal or the input (JSON), in any case. */
  text?: string;
  /** Runs in which this agent ran (an `agent.started` event names it). */
  agent?: string;
  /** Created at or after (epoch ms). */
  since?: number;
  /** Created before (epoch ms). */
  until?: number;
  limit: number;
  cursor?: string;
  /** Keeps only runs the caller may read (policies). */
  visible?: (run: RunRecord) => boolean;
}

export interface RunPage {
  runs: RunRecord[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** The most rows one request looks at; a page cut short by it carries a cursor to go on. */
const SCAN_LIMIT = 5000;

/**
 * One page of runs. Paging is by (createdAt, runId), the store's own order, so runs created in the
 * same millisecond are neither skipped nor repeated across pages. Filters the store does not know
 * (agent, since, policies) are applied as rows are read.
 */
export async function searchRuns(baton: Pick<Baton, 'store'>, search: RunSearch): Promise<RunPage> {
  let position = search.cursor === undefined ? undefined : parseCursor(search.cursor);
  if (search.until !== undefined && (position === undefined || search.until <= position.createdAt)) {
    position = { createdAt: search.until, runId: '' };
  }
  const agentRuns =
    search.agent === undefined
      ? undefined
      : await runsWithAgent(baton, search.tenant, search.agent, search.since);
  const workflowPart = search.workflowContains?.toLowerCase();
  const text = search.text?.toLowerCase();
  const runs: RunRecord[] = [];
  let scanned = 0;
  const batchSize = Math.min(500, Math.max(search.limit * 2, 50));
  for (;;) {
    const batch = await baton.store.listRuns({
      tenant: search.tenant,
      ...(search.status?.length ? { status: search.status } : {}),
      ...(search.workflow === undefined ? {} : { workflow: search.workflow }),
      // ≤ the position's time: runs of that same millisecond are filtered by id below.
      ...(position === undefined
        ? {}
        : { createdBefore: position.createdAt + (position.runId === '' ? 0 : 1) }),
      limit: batchSize,
    });
    let exhausted = batch.length < batchSize;
    let fresh = 0;
    for (const run of batch) {
      if (
        position &&
        run.createdAt === position.createdAt &&
        position.runId !== '' &&
        run.runId >= position.runId
      )
        continue;
      scanned++;
      fresh++;
      position = { createdAt: run.createdAt, runId: run.runId };
      if (search.since !== undefined && run.createdAt < search.since) {
        exhausted = true;
        break;
      }
      if (agentRuns && !agentRuns.has(run.runId)) continue;
      if (workflowPart !== undefined && !run.workflow.toLowerCase().includes(workflowPart)) continue;
      if (text !== undefined && !mentions(run, text)) continue;
      if (search.visible && !search.visible(run)) continue;
      runs.push(run);
      if (runs.length === search.limit) break;
    }
    if (runs.length === search.limit)
      return {
        runs,
        ...(exhausted && runs.at(-1) === batch.at(-1) ? {} : { nextCursor: cursorOf(position!) }),
      };
    if (exhausted || batch.length === 0) return { runs };
    // A whole batch of one millisecond already seen (more runs in it than a batch holds): go on below it.
    if (fresh === 0) position = { createdAt: position!.createdAt, runId: '' };
    if (scanned >= SCAN_LIMIT) return { runs, nextCursor: cursorOf(position!) };
  }
}

function mentions(run: RunRecord, text: string): boolean {
  return [run.runId, run.workflow, run.principal, JSON.stringify(run.input) ?? ''].some((field) =>
    field.toLowerCase().includes(text),
  );
}

async function runsWithAgent(
  baton: Pick<Baton, 'store'>,
  tenant: string,
  agent: string,
  since: number | undefined,
): Promise<Set<string>> {
  if (!baton.store.queryEvents) {
    throw new HttpError(
      'INVALID_REQUEST',
      `The store at ${baton.store.location} cannot search events, so runs cannot be filtered by agent.`,
    );
  }
  const events = await baton.store.queryEvents({
    tenant,
    types: ['agent.started'],
    payload: { name: agent },
    ...(since === undefined ? {} : { since }),
    limit: 100_000,
  });
  return new Set(events.map((event) => event.runId));
}

function cursorOf(position: { createdAt: number; runId: string }): string {
  return `${position.createdAt}.${position.runId}`;
}

function parseCursor(cursor: string): { createdAt: number; runId: string } {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{1,128})$/.exec(cursor);
  if (!match) throw new HttpError('INVALID_REQUEST', `cursor: '${cursor}' is not a cursor this server gave.`);
  return { createdAt: Number(match[1]), runId: match[2]! };
}

/** A time given as ISO-8601 or epoch ms, as epoch ms. */
export function parseTime(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value)) throw new HttpError('INVALID_REQUEST', `${field}: '${text}' is not a time.`);
  return value;
}
