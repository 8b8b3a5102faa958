import { useEffect, useState } from 'react';
import { api, type WorkerList } from '../api.ts';
import { formatCount, formatDuration, formatTime, shortId } from '../components/format.ts';
import { Link } from '../router.tsx';

const REFRESH_MS = 3000;

/** The workers connected to the store: whether any is, and what each is running. Asked again every few seconds. */
export function WorkersPage() {
  const [list, setList] = useState<WorkerList | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = () => {
      api.workers(controller.signal).then(
        (value) => {
          setList(value);
          setNow(Date.now());
          setError(undefined);
        },
        (reason: unknown) => {
          if (!controller.signal.aborted) setError(reason instanceof Error ? reason.message : String(reason));
        },
      );
      timer = setTimeout(ask, REFRESH_MS);
    };
    ask();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, []);

  return (
    <section>
      <div className="page-head">
        <h1>Workers</h1>
      </div>
      {error && <p className="error">{error}</p>}
      {list === undefined ? (
        <p className="muted">Loading…</p>
      ) : !list.tracked ? (
        <p className="muted">This store keeps no list of workers.</p>
      ) : (
        <>
          <p data-testid="workers-summary" className={list.connected === 0 ? 'warning' : ''}>
            {list.connected === 0
              ? 'No worker is running: runs that are started, signalled, resumed or cancelled wait until one starts (baton worker, or baton server --worker).'
              : `${formatCount(list.connected)} ${list.connected === 1 ? 'worker is' : 'workers are'} connected.`}
          </p>
          {list.workers.length > 0 && (
            <div className="scroll-x" tabIndex={0} role="region" aria-label="Workers (scrolls sideways)">
              <table className="table" data-testid="workers-table">
                <caption className="visually-hidden">Workers and the runs they execute</caption>
                <thead>
                  <tr>
                    <th scope="col">Worker</th>
                    <th scope="col">Host</th>
                    <th scope="col">State</th>
                    <th scope="col">Last heartbeat</th>
                    <th scope="col" className="number">
                      Busy
                    </th>
                    <th scope="col">Running</th>
                    <th scope="col">Workflows</th>
                  </tr>
                </thead>
                <tbody>
                  {list.workers.map((worker) => (
                    <tr key={worker.workerId} data-worker={worker.workerId} data-alive={worker.alive}>
                      <td title={worker.workerId}>{worker.workerId}</td>
                      <td>
                        {worker.host} · pid {worker.pid}
                        <div className="muted">since {formatTime(worker.startedAt)}</div>
                      </td>
                      <td>
                        <span className={`badge badge-${worker.alive ? 'running' : 'cancelled'}`}>
                          {worker.alive ? 'alive' : 'gone'}
                        </span>
                      </td>
                      <td>{formatDuration(Math.max(0, now - worker.lastBeatAt))} ago</td>
                      <td className="number">
                        {worker.busy} / {worker.concurrency}
                      </td>
                      <td>
                        {worker.runs.length === 0
                          ? worker.busy > 0
                            ? `${worker.busy} run${worker.busy === 1 ? '' : 's'} you may not read`
                            : '—'
                          : worker.runs.map((run) => (
                              <div key={run.runId}>
                                <Link to={`/runs/${encodeURIComponent(run.runId)}`} title={run.runId}>
                                  {shortId(run.runId)}
                                </Link>{' '}
                                <span className="muted">{run.workflow}</span>
                              </div>
                            ))}
                      </td>
                      <td>{worker.workflows.join(', ') || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
