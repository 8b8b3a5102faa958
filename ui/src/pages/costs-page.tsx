import { useEffect, useState } from 'react';
import { api, type CostReport } from '../api.ts';
import { CostTables } from '../components/cost-tables.tsx';

const PERIODS = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const;

/** The tenant's model spend by agent, model and run, over a period. */
export function CostsPage() {
  const [period, setPeriod] = useState<keyof typeof PERIODS | 'all'>('week');
  const [report, setReport] = useState<CostReport | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const controller = new AbortController();
    setReport(undefined);
    const query = period === 'all' ? '' : `since=${new Date(Date.now() - PERIODS[period]).toISOString()}`;
    api.costs(query, controller.signal).then(setReport, (reason: unknown) => {
      if (!controller.signal.aborted) setError(reason instanceof Error ? reason.message : String(reason));
    });
    return () => controller.abort();
  }, [period]);

  return (
    <section>
      <div className="page-head">
        <h1>Costs</h1>
        <select
          value={period}
          onChange={(event) => setPeriod(event.target.value as typeof period)}
          aria-label="Period"
        >
          <option value="day">last 24 hours</option>
          <option value="week">last 7 days</option>
          <option value="month">last 30 days</option>
          <option value="all">all time</option>
        </select>
      </div>
      {error && <p className="error">{error}</p>}
      {report ? <CostTables report={report} byRun /> : !error && <p className="muted">Loading…</p>}
    </section>
  );
}
