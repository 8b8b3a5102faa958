import { useState } from 'react';
import { api, type ApprovalView } from '../api.ts';
import { Link } from '../router.tsx';
import { formatTime, shortId } from './format.ts';
import { StatusBadge } from './status-badge.tsx';

/** One approval: what waits, for whom, and approve / approve with edited arguments / deny. */
export function ApprovalCard(props: { approval: ApprovalView; onDecided: () => void; compact?: boolean }) {
  const { approval } = props;
  const original = approval.args === undefined ? '' : JSON.stringify(approval.args, null, 2);
  const [args, setArgs] = useState(original);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const edited = args.trim() !== original.trim();

  const decide = async (decision: 'approve' | 'deny') => {
    setBusy(true);
    setError(undefined);
    try {
      let editedArgs: unknown;
      if (decision === 'approve' && edited) {
        try {
          editedArgs = JSON.parse(args);
        } catch {
          throw new Error('The edited arguments are not valid JSON.');
        }
      }
      await api.decide(approval.runId, approval.approvalId, {
        decision,
        ...(reason.trim() === '' ? {} : { reason: reason.trim() }),
        ...(editedArgs === undefined ? {} : { args: editedArgs }),
      });
      setOutcome(
        decision === 'approve' ? (edited ? 'Approved with edited arguments.' : 'Approved.') : 'Denied.',
      );
      props.onDecided();
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article
      className="approval"
      data-testid="approval"
      data-approval={approval.approvalId}
      data-run={approval.runId}
    >
      <header>
        <strong>
          {approval.kind === 'tool' ? 'Tool call' : 'Model call'} {approval.name}
        </strong>
        {approval.effect && <span className={`effect effect-${approval.effect}`}>{approval.effect}</span>}
        <StatusBadge status={approval.status} />
        <span className="grow" />
        {!props.compact && (
          <Link to={`/runs/${encodeURIComponent(approval.runId)}`} title={approval.runId}>
            {approval.workflow} · {shortId(approval.runId)}
          </Link>
        )}
      </header>
      {approval.summary && <p>{approval.summary}</p>}
      {approval.context && (
        <div className="approval-context" data-testid="approval-context">
          <p className="muted">
            Asked for by <strong>{approval.context.agent}</strong>
            {approval.context.turn !== undefined && ` in turn ${approval.context.turn}`}
            {approval.context.callId && ` (call ${approval.context.callId})`}
            {approval.context.message ? ', which said:' : '.'}
          </p>
          {approval.context.message && (
            <blockquote className="prose" data-testid="approval-reason">
              {approval.context.message}
            </blockquote>
          )}
          {approval.args !== undefined && (approval.status !== 'pending' || approval.canDecide === false) && (
            <pre className="json" data-testid="approval-arguments">
              {JSON.stringify(approval.args, null, 2)}
            </pre>
          )}
        </div>
      )}
      <p className="muted">
        Asked {formatTime(approval.requestedAt)} for {approval.requestedBy}
        {approval.approvers.length > 0 && ` · approvers: ${approval.approvers.join(', ')}`}
        {approval.until && ` · until ${formatTime(approval.until)}`}
        {approval.decidedBy &&
          ` · ${approval.status} by ${approval.decidedBy}${approval.comment ? `: ${approval.comment}` : ''}`}
      </p>
      {approval.status === 'pending' && !outcome && approval.canDecide === false && (
        <p className="muted" data-testid="cannot-decide">
          You may not decide this one
          {approval.source === 'guard' && approval.approvers.length === 0
            ? ': the run acts for you, so someone else must'
            : ''}
          .
        </p>
      )}
      {approval.status === 'pending' && !outcome && approval.canDecide !== false ? (
        <>
          {approval.args !== undefined && (
            <label className="stack">
              Arguments {edited && <em>(edited)</em>}
              <textarea
                value={args}
                onChange={(event) => setArgs(event.target.value)}
                rows={Math.min(12, original.split('\n').length + 1)}
                spellCheck={false}
                aria-label="Arguments"
              />
            </label>
          )}
          <label className="stack">
            Reason (optional)
            <input value={reason} onChange={(event) => setReason(event.target.value)} aria-label="Reason" />
          </label>
          <div className="buttons">
            <button type="button" className="primary" disabled={busy} onClick={() => void decide('approve')}>
              {edited ? 'Approve with edits' : 'Approve'}
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void decide('deny')}>
              Deny
            </button>
            {edited && (
              <button type="button" className="quiet" disabled={busy} onClick={() => setArgs(original)}>
                Undo edits
              </button>
            )}
          </div>
        </>
      ) : (
        outcome && (
          <p className="ok" role="status">
            {outcome} The run goes on.
          </p>
        )
      )}
      {error && <p className="error">{error}</p>}
    </article>
  );
}
