import type { ReactNode } from 'react';
import type { CostReport } from '../api.ts';
import { Link } from '../router.tsx';
import { formatCost, formatCount, shortId } from './format.ts';

type Line = CostReport['total'];

/** Spend by agent, by model and, with `byRun` (tenant-wide), by run. */
export function CostTables(props: { report: CostReport; byRun?: boolean }) {
  const { report } = props;
  if (report.total.calls === 0) return <p className="muted">No model calls yet.</p>;
  return (
    <div className="costs" data-testid="costs">
      <p>
        <strong>{formatCost(report.total)}</strong> for {formatCount(report.total.calls)} model call(s),{' '}
        {formatCount(report.total.inputTokens)} input and {formatCount(report.total.outputTokens)} output
        tokens
        {report.total.unpriced > 0 && (
          <span className="muted"> · {report.total.unpriced} call(s) of models without a price</span>
        )}
      </p>
      {report.byDay && report.byDay.length > 0 && <SpendOverTime days={report.byDay} />}
      {report.byWorkflow && (
        <CostTable
          title="By workflow"
          rows={report.byWorkflow.map((line) => ({ key: line.workflow, label: line.workflow, line }))}
        />
      )}
      <CostTable
        title="By agent"
        rows={report.byAgent.map((line) => ({ key: line.agent, label: line.agent, line }))}
      />
      <CostTable
        title="By model"
        rows={report.byModel.map((line) => ({ key: line.model, label: line.model, line }))}
      />
      {props.byRun && (
        <CostTable
          title="By run"
          rows={report.byRun.slice(0, 50).map((line) => ({
            key: line.runId,
            label: (
              <Link to={`/runs/${encodeURIComponent(line.runId)}`} title={line.runId}>
                {shortId(line.runId)}
              </Link>
            ),
            line,
          }))}
        />
      )}
    </div>
  );
}

/** Tokens and cost per UTC day: a bar per day, as long as its tokens are many (cost may be unpriced). */
function SpendOverTime(props: { days: NonNullable<CostReport['byDay']> }) {
  const most = Math.max(...props.days.map((day) => day.inputTokens + day.outputTokens), 1);
  return (
    <figure className="spend-over-time" data-testid="spend-over-time">
      <figcaption>Over time (UTC days)</figcaption>
      <ol>
        {props.days.map((day) => {
          const tokens = day.inputTokens + day.outputTokens;
          return (
            <li key={day.day} data-day={day.day}>
              <span className="spend-day">{day.day}</span>
              <span className="spend-bar" aria-hidden="true">
                <span style={{ width: `${(tokens / most) * 100}%` }} />
              </span>
              <span className="spend-value">
                {formatCost(day)} · {formatCount(tokens)} tokens · {formatCount(day.calls)} call(s)
              </span>
            </li>
          );
        })}
      </ol>
    </figure>
  );
}

function CostTable(props: { title: string; rows: { key: string; label: ReactNode; line: Line }[] }) {
  return (
    <div className="scroll-x">
      <table className="table compact">
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th>{props.title.replace(/^By /, '').replace(/^./, (first) => first.toUpperCase())}</th>
            <th className="number">Cost</th>
            <th className="number">Calls</th>
            <th className="number">Input tokens</th>
            <th className="number">Output tokens</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={row.key}>
              <td>{row.label}</td>
              <td className={`number${row.line.unpriced > 0 ? ' unpriced' : ''}`}>{formatCost(row.line)}</td>
              <td className="number">{formatCount(row.line.calls)}</td>
              <td className="number">{formatCount(row.line.inputTokens)}</td>
              <td className="number">{formatCount(row.line.outputTokens)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
