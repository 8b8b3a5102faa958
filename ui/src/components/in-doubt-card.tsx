import { useState } from 'react';
import { api, type InDoubtCall } from '../api.ts';
import { Link } from '../router.tsx';
import { formatTime, shortId } from './format.ts';

/**
 * A tool call a crash left in doubt: what it was, and the person's choice — run it again, skip it,
 * or skip it giving the model the result the outside system shows.
 */
export function InDoubtCard(props: { call: InDoubtCall; onResolved: () => void }) {
  const { call } = props;
  const [result, setResult] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  const resolve = async (action: 'retry' | 'skip') => {
    setBusy(true);
    setError(undefined);
    try {
      let given: unknown;
      if (action === 'skip' && result.trim() !== '') {
        try {
          given = JSON.parse(result);
        } catch {
          throw new Error('The result is not valid JSON.');
        }
      }
      await api.resolveInDoubt(call.runId, call.op, {
        action,
        ...(given === undefined ? {} : { result: given }),
      });
      setOutcome(
        action === 'retry' ? 'Runs again.' : given === undefined ? 'Skipped.' : 'Skipped, with the result.',
      );
      props.onResolved();
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="approval" data-testid="in-doubt" data-run={call.runId} data-op={call.op}>
      <header>
        <strong>Tool call {call.tool}</strong>
        <span className={`effect effect-${call.effect}`}>{call.effect}</span>
        <span className="grow" />
        <Link to={`/runs/${encodeURIComponent(call.runId)}`} title={call.runId}>
          run {shortId(call.runId)} · op {call.op}
        </Link>
      </header>
      <p className="muted">
        In doubt since {formatTime(call.since)}: the process died after the call started and before its result
        was journaled (attempt {call.attempt}, by {call.actor}). Check the outside system, then say what
        happened.
      </p>
      <pre className="json">{JSON.stringify(call.args, null, 2)}</pre>
      {outcome ? (
        <p className="ok" role="status">
          {outcome} The run goes on.
        </p>
      ) : (
        <>
          <label className="stack">
            Result to give the model when skipping (JSON, optional)
            <textarea
              value={result}
              onChange={(event) => setResult(event.target.value)}
              rows={2}
              spellCheck={false}
              aria-label="Result"
            />
          </label>
          <div className="buttons">
            <button type="button" className="primary" disabled={busy} onClick={() => void resolve('retry')}>
              Run again
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void resolve('skip')}>
              Skip
            </button>
          </div>
        </>
      )}
      {error && <p className="error">{error}</p>}
    </article>
  );
}
