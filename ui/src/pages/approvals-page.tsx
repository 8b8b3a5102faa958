import { useEffect, useState } from 'react';
import { api, type ApprovalView } from '../api.ts';
import { ApprovalCard } from '../components/approval-card.tsx';
import { InDoubtCard } from '../components/in-doubt-card.tsx';
import type { InDoubtCall } from '../api.ts';

/** The approvals inbox: calls waiting for a person, newest first; refreshed every few seconds. */
export function ApprovalsPage() {
  const [approvals, setApprovals] = useState<ApprovalView[] | undefined>();
  const [showDecided, setShowDecided] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  // Approvals decided here stay on the page (with their outcome) after they leave the pending list.
  const [kept, setKept] = useState<ApprovalView[]>([]);
  const [inDoubt, setInDoubt] = useState<InDoubtCall[]>([]);
  // Calls resolved here stay on the page (with what was chosen) after they leave the list.
  const [resolved, setResolved] = useState<InDoubtCall[]>([]);
  const doubtKey = (call: InDoubtCall): string => `${call.runId}/${call.op}`;
  const doubts = [
    ...inDoubt,
    ...resolved.filter((call) => !inDoubt.some((listed) => doubtKey(listed) === doubtKey(call))),
  ];

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
    api
      .inDoubt(controller.signal)
      .then((value) => setInDoubt(value.calls))
      .catch(() => {
        // Listed with the approvals; an older server without the route shows none.
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
          <input
            type="checkbox"
            checked={showDecided}
            onChange={(event) => setShowDecided(event.target.checked)}
          />{' '}
          show decided
        </label>
      </div>
      {error && <p className="error">{error}</p>}
      {doubts.length > 0 && (
        <>
          <h2>Tool calls in doubt</h2>
          <div className="approval-list">
            {doubts.map((call) => (
              <InDoubtCard
                key={doubtKey(call)}
                call={call}
                onResolved={() => {
                  setResolved((current) => [
                    ...current.filter((item) => doubtKey(item) !== doubtKey(call)),
                    call,
                  ]);
                  setTick((value) => value + 1);
                }}
              />
            ))}
          </div>
          <h2>Approvals</h2>
        </>
      )}
      {approvals === undefined ? (
        <p className="muted">Loading…</p>
      ) : shown(approvals, kept).length === 0 ? (
        <p className="muted">Nothing is waiting for a decision.</p>
      ) : (
        <div className="approval-list">
          {shown(approvals, kept).map((approval) => (
            <ApprovalCard
              key={keyOf(approval)}
              approval={approval}
              onDecided={() => {
                setKept((current) => [
                  ...current.filter((item) => keyOf(item) !== keyOf(approval)),
                  approval,
                ]);
                setTick((value) => value + 1);
              }}
            />
          ))}
        </div>
      )}
    </section>
  );
}

const keyOf = (approval: ApprovalView): string => `${approval.runId}/${approval.approvalId}`;

/** The fetched approvals, then those decided on this page that the list no longer holds. */
function shown(fetched: ApprovalView[], kept: ApprovalView[]): ApprovalView[] {
  const keys = new Set(fetched.map(keyOf));
  return [...fetched, ...kept.filter((approval) => !keys.has(keyOf(approval)))];
}
