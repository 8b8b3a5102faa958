import { useEffect, useState, type FormEvent } from 'react';
import { api, openStream, type CostReport, type Run } from '../api.ts';
import { formatCost, formatCount, formatDuration, formatTime, shortId } from '../components/format.ts';
import { StartRunForm } from '../components/start-run-form.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Link, navigate } from '../router.tsx';

const STATUSES = [
  'pending',
  'running',
  'waiting',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'continued',
] as const;

interface Filters {
  /** Text in the run id, workflow, who started it, or its input. */
  q: string;
  /** Comma-separated statuses. */
  status: string;
  /** Part of the workflow name. */
  workflow: string;
  agent: string;
  since: string;
  until: string;
}

function filtersOf(search: string): Filters {
  const params = new URLSearchParams(search);
  return {
    q: params.get('q') ?? '',
    status: params.get('status') ?? '',
    workflow: params.get('workflow') ?? '',
    agent: params.get('agent') ?? '',
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };
}

/** The API query for the filters (datetime-local inputs become ISO times). */
function queryOf(filters: Filters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.status) params.set('status', filters.status);
  if (filters.workflow) params.set('workflowContains', filters.workflow);
  if (filters.agent) params.set('agent', filters.agent);
  if (filters.since) params.set('since', new Date(filters.since).toISOString());
  if (filters.until) params.set('until', new Date(filters.until).toISOString());
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}

/** Runs, newest first, with filters; the first page updates live. */
export function RunsPage(props: { search: string }) {
  const filters = filtersOf(props.search);
  const [draft, setDraft] = useState(filters);
  const [runs, setRuns] = useState<Run[] | undefined>();
  const [older, setOlder] = useState<Run[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [live, setLive] = useState<'open' | 'reconnecting' | 'ended'>('reconnecting');
  const [error, setError] = useState<string | undefined>();
  const [starting, setStarting] = useState(false);
  const query = queryOf(filters);

  useEffect(() => setDraft(filtersOf(props.search)), [props.search]);
  useEffect(() => {
    setRuns(undefined);
    setOlder([]);
    setError(undefined);
    return openStream(`/api/runs/stream?${query}`, {
      onEvent(name, data) {
        if (name === 'runs') {
          const page = data as { runs: Run[]; nextCursor?: string };
          setRuns(page.runs);
          setCursor((current) => current ?? page.nextCursor);
        } else if (name === 'error') setError((data as { error: { message: string } }).error.message);
      },
      onStatus: setLive,
    });
  }, [query]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(Object.entries(draft).filter(([, value]) => value !== '')).toString();
    navigate(next ? `/?${next}` : '/');
  };
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await api.runs(queryOf(filters, { cursor }));
      setOlder((current) => [...current, ...page.runs]);
      setCursor(page.nextCursor);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  const shown = [
    ...(runs ?? []),
    ...older.filter((run) => !(runs ?? []).some((fresh) => fresh.runId === run.runId)),
  ];
  const costs = useRunCosts(shown);
  const statuses = new Set(draft.status.split(',').filter(Boolean));
  const toggleStatus = (status: string, on: boolean) => {
    const next = new Set(statuses);
    if (on) next.add(status);
    else next.delete(status);
    setDraft({ ...draft, status: STATUSES.filter((known) => next.has(known)).join(',') });
  };

  return (
    <section>
      <div className="page-head">
        <h1>Runs</h1>
        <span className={`live live-${live}`}>{live === 'open' ? 'live' : 'connecting…'}</span>
        <span className="grow" />
        <button
          type="button"
          className={starting ? 'quiet' : 'primary'}
          aria-expanded={starting}
          onClick={() => setStarting(!starting)}
          data-testid="start-run"
        >
          Start a run
        </button>
      </div>
      {starting && <StartRunForm onClose={() => setStarting(false)} />}
      <form className="filters" onSubmit={apply}>
        <label>
          Search
          <input
            type="search"
            value={draft.q}
            onChange={(event) => setDraft({ ...draft, q: event.target.value })}
            placeholder="run id or text"
          />
        </label>
        <fieldset className="checks">
          <legend>Status</legend>
          {STATUSES.map((status) => (
            <label key={status}>
              <input
                type="checkbox"
                checked={statuses.has(status)}
                onChange={(event) => toggleStatus(status, event.target.checked)}
              />
              {status}
            </label>
          ))}
        </fieldset>
        <label>
          Workflow
          <input
            value={draft.workflow}
            onChange={(event) => setDraft({ ...draft, workflow: event.target.value })}
            placeholder="any"
          />
        </label>
        <label>
          Agent
          <input
            value={draft.agent}
            onChange={(event) => setDraft({ ...draft, agent: event.target.value })}
            placeholder="any"
          />
        </label>
        <label>
          Since
          <input
            type="datetime-local"
            value={draft.since}
            onChange={(event) => setDraft({ ...draft, since: event.target.value })}
          />
        </label>
        <label>
          Until
          <input
            type="datetime-local"
            value={draft.until}
            onChange={(event) => setDraft({ ...draft, until: event.target.value })}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error && <p className="error">{error}</p>}
      {runs === undefined ? (
        <p className="muted">Loading…</p>
      ) : shown.length === 0 ? (
        <p className="muted">No runs match.</p>
      ) : (
        <div className="scroll-x">
          <table className="table runs" data-testid="runs-table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Workflow</th>
                <th>Status</th>
                <th>Started by</th>
                <th>Created</th>
                <th>Duration</th>
                <th>Waiting on</th>
                <th className="number">Cost</th>
                <th className="number">Tokens</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((run) => (
                <tr key={run.runId} data-run={run.runId}>
                  <td>
                    <Link to={`/runs/${encodeURIComponent(run.runId)}`} title={run.runId}>
                      {shortId(run.runId)}
                    </Link>
                    <RunOrigin run={run} />
                  </td>
                  <td>{run.workflow}</td>
                  <td>
                    <StatusBadge status={run.status} paused={run.paused} />
                  </td>
                  <td>{run.principal}</td>
                  <td>{formatTime(run.createdAt)}</td>
                  <td>{formatDuration(run.updatedAt - run.createdAt)}</td>
                  <td data-testid="waiting-on">{waitingOn(run)}</td>
                  <RunCost line={costs?.get(run.runId)} known={costs !== undefined} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" className="quiet" onClick={() => void loadMore()}>
          Older runs
        </button>
      )}
    </section>
  );
}

/** A few words on what a waiting run waits on: `signal go`, `approval tool-3`, `timer until …`. */
function waitingOn(run: Run): string {
  if (!run.waitingOn || run.waitingOn.length === 0) return '';
  return run.waitingOn
    .map((wait) => {
      switch (wait.kind) {
        case 'signal':
          return `signal ${wait.name}`;
        case 'timer':
          return `timer until ${formatTime(wait.fireAt)}`;
        case 'retry':
          return `retry of ${wait.step}`;
        case 'child':
          return `child ${shortId(wait.childRunId)}`;
        case 'approval':
          return `approval ${wait.approvalId}`;
        case 'in-doubt':
          return `in-doubt ${wait.tool}`;
      }
    })
    .join(', ');
}

type CostLine = CostReport['total'];

/**
 * Cost and tokens of the shown runs: one tenant cost report since the oldest shown run, asked again
 * when the runs change (a run wrote more events or finished).
 */
function useRunCosts(runs: Run[]): Map<string, CostLine> | undefined {
  const [costs, setCosts] = useState<Map<string, CostLine> | undefined>();
  const oldest = runs.reduce((min, run) => Math.min(min, run.createdAt), Infinity);
  const fingerprint = runs.map((run) => `${run.runId}:${run.updatedAt}`).join('|');
  const since = Number.isFinite(oldest) ? new Date(oldest).toISOString() : undefined;
  useEffect(() => {
    if (since === undefined) return;
    const controller = new AbortController();
    api.costs(`since=${encodeURIComponent(since)}`, controller.signal).then(
      (report) => setCosts(new Map(report.byRun.map((line) => [line.runId, line]))),
      () => undefined,
    );
    return () => controller.abort();
  }, [since, fingerprint]);
  return costs;
}

function RunCost(props: { line: CostLine | undefined; known: boolean }) {
  const { line } = props;
  if (!line) {
    const none = props.known ? 'none' : '…';
    return (
      <>
        <td className="number muted">{none}</td>
        <td className="number muted">{none}</td>
      </>
    );
  }
  return (
    <>
      <td className={`number${line.unpriced > 0 ? ' unpriced' : ''}`}>{formatCost(line)}</td>
      <td className="number">{formatCount(line.inputTokens + line.outputTokens)}</td>
    </>
  );
}

/** A child run links to its parent, a fork to the run it was forked from. */
function RunOrigin(props: { run: Run }) {
  const forkOf = (props.run.metadata as { forkOf?: { runId?: unknown } }).forkOf?.runId;
  const origin =
    typeof forkOf === 'string'
      ? { label: 'fork of', runId: forkOf }
      : props.run.parentRunId
        ? { label: 'child of', runId: props.run.parentRunId }
        : undefined;
  if (!origin) return null;
  return (
    <div className="run-origin muted" data-testid="run-origin">
      {origin.label}{' '}
      <Link to={`/runs/${encodeURIComponent(origin.runId)}`} title={origin.runId}>
        {shortId(origin.runId)}
      </Link>
    </div>
  );
}
