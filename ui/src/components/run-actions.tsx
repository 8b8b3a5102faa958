import { useState, type FormEvent } from 'react';
import { api, type Run } from '../api.ts';
import { useWorkerNotice } from './worker-notice.ts';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out', 'continued']);
/** Statuses a run can be resumed in place from (src/engine/resume-run.ts), besides a paused run. */
const RESUMABLE = new Set(['failed', 'cancelled', 'timed_out']);

/**
 * What can be done to a run from its page: send a signal it waits for, cancel it with a reason (as
 * the signed-in caller), resume it in place; each says so when no worker is running to act on it.
 */
export function RunActions(props: {
  run: Run;
  signals: string[];
  caller: string | undefined;
  /** The run was reopened (resumed): its page reads and follows it again. */
  onReopened: () => void;
}) {
  const { run } = props;
  const [message, setMessage] = useState<string | undefined>();
  const [cancelling, setCancelling] = useState(false);
  const { notice, check } = useWorkerNotice();
  const failed = (error: unknown) => setMessage(error instanceof Error ? error.message : String(error));

  const resume = async () => {
    try {
      await api.resume(run.runId);
      props.onReopened();
      setMessage(run.paused ? 'Resumed.' : 'Resumed in place: the run goes on from its journal.');
      await check('the run goes on');
    } catch (error) {
      failed(error);
    }
  };

  const pause = async () => {
    try {
      await api.pause(run.runId);
      setMessage('Paused: no worker takes the run until it is resumed.');
    } catch (error) {
      failed(error);
    }
  };

  const resumable = run.paused === true || RESUMABLE.has(run.status);
  const live = !TERMINAL.has(run.status);
  return (
    <div className="run-actions" data-testid="run-actions">
      {live && props.signals.length > 0 && (
        <SignalForm run={run} signals={props.signals} onDone={setMessage} />
      )}
      {live && run.paused !== true && (
        <button type="button" onClick={() => void pause()} data-testid="pause-run">
          Pause
        </button>
      )}
      {live && !cancelling && (
        <button type="button" className="danger" onClick={() => setCancelling(true)}>
          Cancel run…
        </button>
      )}
      {live && cancelling && (
        <CancelForm
          run={run}
          caller={props.caller}
          onClose={() => setCancelling(false)}
          onDone={(text) => {
            setCancelling(false);
            setMessage(text);
            void check('the run is cancelled');
          }}
          onError={failed}
        />
      )}
      {resumable && (
        <button type="button" onClick={() => void resume()} data-testid="resume-run">
          {run.paused ? 'Resume' : 'Resume in place'}
        </button>
      )}
      {message && (
        <span className="muted" role="status" data-testid="action-message">
          {message}
        </span>
      )}
      {notice && (
        <p className="warning" role="alert" data-testid="no-worker">
          {notice}
        </p>
      )}
    </div>
  );
}

function CancelForm(props: {
  run: Run;
  caller: string | undefined;
  onClose: () => void;
  onDone: (message: string) => void;
  onError: (error: unknown) => void;
}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await api.cancel(props.run.runId, reason.trim() === '' ? undefined : reason.trim());
      props.onDone(`Cancellation requested${props.caller ? ` by ${props.caller}` : ''}.`);
    } catch (error) {
      props.onError(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="cancel-form" onSubmit={(event) => void submit(event)} data-testid="cancel-form">
      <label>
        Why cancel?
        <input
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          placeholder="a reason, kept with the run"
          autoFocus
        />
      </label>
      <button type="submit" className="danger" disabled={busy}>
        Cancel run{props.caller ? ` as ${props.caller}` : ''}
      </button>
      <button type="button" className="quiet" onClick={props.onClose}>
        Keep it running
      </button>
    </form>
  );
}

function SignalForm(props: { run: Run; signals: string[]; onDone: (message: string) => void }) {
  const [signal, setSignal] = useState('');
  const [payload, setPayload] = useState('');
  const send = async () => {
    try {
      const name = signal || props.signals[0];
      if (!name) return;
      await api.signal(props.run.runId, name, payload.trim() === '' ? undefined : JSON.parse(payload));
      props.onDone(`Sent ${name}.`);
      setPayload('');
    } catch (error) {
      props.onDone(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <>
      <select
        value={signal || props.signals[0]}
        onChange={(event) => setSignal(event.target.value)}
        aria-label="Signal"
      >
        {props.signals.map((name) => (
          <option key={name}>{name}</option>
        ))}
      </select>
      <input
        value={payload}
        onChange={(event) => setPayload(event.target.value)}
        placeholder="payload (JSON)"
        aria-label="Signal payload"
      />
      <button type="button" onClick={() => void send()}>
        Send signal
      </button>
    </>
  );
}
