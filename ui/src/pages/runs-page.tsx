import { useEffect, useState, type FormEvent } from 'react';
import { api, openStream, type Run } from '../api.ts';
import { formatDuration, formatTime, shortId } from '../components/format.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { Link, navigate } from '../router.tsx';

const STATUSES = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled', 'timed_out'] as const;

interface Filters {
  status: string;
  workflow: string;
  agent: string;
  since: string;
  until: string;
}

function filtersOf(search: string): Filters {
  const params = new URLSearchParams(search);
  return {
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
  if (filters.status) params.set('status', filters.status);
  if (filters.workflow) params.set('workflow', filters.workflow);
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

  return (
    <section>
      <div className="page-head">
        <h1>Runs</h1>
        <span className={`live live-${live}`}>{live === 'open' ? 'live' : 'connecting…'}</span>
      </div>
      <form className="filters" onSubmit={apply}>
        <label>
          Status
          <select
            value={draft.status}
            onChange={(event) => setDraft({ ...draft, status: event.target.value })}
          >
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
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
        <table className="table runs" data-testid="runs-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Started by</th>
              <th>Created</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((run) => (
              <tr key={run.runId} data-run={run.runId}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(run.runId)}`} title={run.runId}>
                    {shortId(run.runId)}
                  </Link>
                </td>
                <td>{run.workflow}</td>
                <td>
                  <StatusBadge status={run.status} paused={run.paused} />
                </td>
                <td>{run.principal}</td>
                <td>{formatTime(run.createdAt)}</td>
                <td>{formatDuration(run.updatedAt - run.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" className="quiet" onClick={() => void loadMore()}>
          Older runs
        </button>
      )}
    </section>
  );
}
