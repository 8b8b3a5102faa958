import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { formatTime, shortId } from '../components/format.ts';
import { PolicyText } from '../components/policy-text.tsx';
import { Link, navigate } from '../router.tsx';
import type { AuditEntry } from '../../../src/access/audit.ts';

type Field = 'agent' | 'action' | 'as' | 'decision' | 'since';
type Filters = Record<Field, string>;

function filtersOf(search: string): Filters {
  const params = new URLSearchParams(search);
  return {
    agent: params.get('agent') ?? '',
    action: params.get('action') ?? '',
    as: params.get('as') ?? '',
    decision: params.get('decision') ?? '',
    since: params.get('since') ?? '7d',
  };
}

/**
 * The audit trail of the caller's tenant: every authorization decision runs journaled — who acted
 * (the agent and the chain of principals it acted for), what it did, under which grant, and the
 * policies that decided (their Cedar text on demand). Newest first.
 */
export function AuditPage(props: { search: string }) {
  const filters = filtersOf(props.search);
  const [draft, setDraft] = useState(filters);
  const [entries, setEntries] = useState<AuditEntry[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== '')).toString();
  useEffect(() => setDraft(filtersOf(props.search)), [props.search]);
  useEffect(() => {
    const controller = new AbortController();
    setEntries(undefined);
    setError(undefined);
    api.audit(query, controller.signal).then(
      (answer) => setEntries([...answer.entries].reverse()),
      (reason: unknown) => {
        if (!controller.signal.aborted) setError(reason instanceof Error ? reason.message : String(reason));
      },
    );
    return () => controller.abort();
  }, [query]);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(Object.entries(draft).filter(([, value]) => value !== '')).toString();
    navigate(next ? `/audit?${next}` : '/audit');
  };
  const field = (name: Field, label: string, placeholder: string) => (
    <label>
      {label}
      <input
        value={draft[name]}
        onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
        placeholder={placeholder}
      />
    </label>
  );

  return (
    <section>
      <div className="page-head">
        <h1>Audit</h1>
      </div>
      <p className="muted">Who did what, for whom, under which grant, and the policies that decided.</p>
      <form className="filters" onSubmit={apply}>
        {field('agent', 'Agent', 'writer, or *')}
        {field('action', 'Action', 'InvokeTool, tool:payments.*')}
        {field('as', 'As or for', 'user:alice')}
        <label>
          Decision
          <select
            value={draft.decision}
            onChange={(event) => setDraft({ ...draft, decision: event.target.value })}
          >
            <option value="">allow or deny</option>
            <option value="allow">allow</option>
            <option value="deny">deny</option>
          </select>
        </label>
        {field('since', 'Since', '24h, 7d, or a time')}
        <button type="submit">Filter</button>
      </form>
      {error && <p className="error">{error}</p>}
      {entries === undefined ? (
        !error && <p className="muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p className="muted">No decision matches.</p>
      ) : (
        <div className="scroll-x">
          <table className="table" data-testid="audit-table">
            <caption className="visually-hidden">Authorization decisions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who (for whom)</th>
                <th scope="col">Did</th>
                <th scope="col">Decision</th>
                <th scope="col">Grant</th>
                <th scope="col">Policies</th>
                <th scope="col">Run</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={`${entry.runId}:${entry.seq}`} data-decision={entry.decision}>
                  <td>{formatTime(entry.at)}</td>
                  <td className="chain">{entry.chain}</td>
                  <td>
                    {entry.action} <span className="muted">{entry.resource}</span>
                  </td>
                  <td>
                    <span className={`badge badge-${entry.decision === 'allow' ? 'completed' : 'denied'}`}>
                      {entry.decision}
                    </span>{' '}
                    <span className="muted">{entry.reason}</span>
                  </td>
                  <td>
                    {entry.grantAction}
                    {entry.grantId && <div className="muted">{entry.grantId}</div>}
                  </td>
                  <td>
                    {entry.policies.length === 0
                      ? '—'
                      : entry.policies.map((id) => (
                          <div key={id}>
                            <PolicyText id={id} />
                          </div>
                        ))}
                  </td>
                  <td>
                    <Link
                      to={`/runs/${encodeURIComponent(entry.runId)}?step=${entry.seq}`}
                      title={entry.runId}
                    >
                      {shortId(entry.runId)} #{entry.seq}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
