import { useEffect, useState } from 'react';
import { api, type ApprovalView } from '../api.ts';
import { ApprovalCard } from '../components/approval-card.tsx';

/** The approvals inbox: calls waiting for a person, newest first; refreshed every few seconds. */
export function ApprovalsPage() {
  const [approvals, setApprovals] = useState<ApprovalView[] | undefined>();
  const [showDecided, setShowDecided] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api
      .approvals(`status=${showDecided ? 'all' : 'pending'}`, controller.signal)
      .then((value) => {
        setApprovals(value.approvals);
        setError(undefined);
      })
      .catch((reason: unknown) => {
        if (!controller.signal.aborted) setError(reason instanceof Error ? reason.message : String(reason));
      });
    const timer = setTimeout(() => setTick((value) => value + 1), 3000);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [showDecided, tick]);

  return (
    <section>
      <div className="page-head">
        <h1>Approvals</h1>
        <label className="inline">
          <input type="checkbox" checked={showDecided} onChange={(event) => setShowDecided(event.target.checked)} /> show decided
        </label>
      </div>
      {error && <p className="error">{error}</p>}
      {approvals === undefined ? (
        <p className="muted">Loading…</p>
      ) : approvals.length === 0 ? (
        <p className="muted">Nothing is waiting for a decision.</p>
      ) : (
        <div className="approval-list">
          {approvals.map((approval) => (
            <ApprovalCard key={`${approval.runId}/${approval.approvalId}/${approval.status}`} approval={approval} onDecided={() => setTick((value) => value + 1)} />
          ))}
        </div>
      )}
    </section>
  );
}
