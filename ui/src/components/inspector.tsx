import { useEffect, useState } from 'react';
import { api, type StepDetail } from '../api.ts';
import { formatCount, formatDuration, formatTime, formatUsd, messageText, text } from './format.ts';
import { JsonView } from './json-view.tsx';
import { PolicyText } from './policy-text.tsx';
import { StatusBadge } from './status-badge.tsx';
import { LiveCallText } from './live-calls.tsx';
import type { LiveCall } from '../model/live-calls.ts';
import { navigate } from '../router.tsx';

/**
 * The step inspector: everything about the step of one event. Fetched when the selection changes,
 * and again when the run writes more events while the step is not finished.
 */
export function Inspector(props: {
  runId: string;
  seq: number;
  lastSeq: number;
  /** Model calls in flight (the run's live stream): a selected call's text shows as it streams. */
  liveCalls?: ReadonlyMap<number, LiveCall>;
  onClose: () => void;
}) {
  const [detail, setDetail] = useState<StepDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const settled =
    detail !== undefined &&
    detail.seq === props.seq &&
    detail.status !== 'running' &&
    detail.status !== 'waiting';
  const refreshKey = settled ? 0 : props.lastSeq;

  useEffect(() => {
    const controller = new AbortController();
    api
      .step(props.runId, props.seq, controller.signal)
      .then((value) => {
        setDetail(value);
        setError(undefined);
      })
      .catch((reason: unknown) => {
        if (!controller.signal.aborted) setError(reason instanceof Error ? reason.message : text(reason));
      });
    return () => controller.abort();
  }, [props.runId, props.seq, refreshKey]);

  return (
    <aside className="inspector" aria-label="Step inspector" data-testid="inspector">
      <header className="inspector-head">
        <h2>{detail?.seq === props.seq ? `${detail.name ?? detail.type}` : `Event ${props.seq}`}</h2>
        <div className="inspector-actions">
          <ForkFromHere runId={props.runId} seq={props.seq} />
          <CopyLink />
          <button type="button" className="quiet" onClick={props.onClose} aria-label="Close the inspector">
            ×
          </button>
        </div>
      </header>
      {error && <p className="error">{error}</p>}
      {detail && detail.seq === props.seq && detail.op !== undefined && props.liveCalls?.get(detail.op) && (
        <LiveCallText call={props.liveCalls.get(detail.op)!} />
      )}
      {detail && detail.seq === props.seq && <StepBody detail={detail} />}
    </aside>
  );
}

/**
 * Forks the run at this event: a new run reusing the journal up to here, going on live on today's
 * code; opens it (whose page says when no worker is running to carry it on).
 */
function ForkFromHere(props: { runId: string; seq: number }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const fork = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      const { run } = await api.fork(props.runId, props.seq);
      navigate(`/runs/${encodeURIComponent(run.runId)}`);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="quiet"
        disabled={busy}
        onClick={() => void fork()}
        data-testid="fork-here"
        title={`A new run that reuses this run's journal up to event ${props.seq}, then goes on live`}
      >
        Fork from here
      </button>
      {problem && (
        <span role="alert" className="error">
          {problem}
        </span>
      )}
    </>
  );
}

/** The signals this step received: each one's name, who sent it, and its payload. */
function ReceivedSignals({ detail }: { detail: StepDetail }) {
  const received = detail.events.filter((event) => event.type === 'signal.received');
  if (received.length === 0) return null;
  return (
    <section data-testid="signal-received">
      <h3>Signal received</h3>
      {received.map((event) => {
        const payload = event.payload as {
          name?: unknown;
          sentBy?: unknown;
          signalId?: unknown;
          payload?: unknown;
        };
        return (
          <div key={event.seq}>
            <dl className="facts">
              <dt>Name</dt>
              <dd>{text(payload.name)}</dd>
              <dt>Sent by</dt>
              <dd data-testid="signal-sender">
                {payload.sentBy === undefined ? 'not recorded' : text(payload.sentBy)}
              </dd>
              <dt>Received</dt>
              <dd>{formatTime(event.at)}</dd>
              <dt>Signal id</dt>
              <dd>{text(payload.signalId)}</dd>
            </dl>
            <h4>Payload</h4>
            <JsonView value={payload.payload} label="Signal payload" testId="signal-payload" />
          </div>
        );
      })}
    </section>
  );
}

/** Copies the address of this run, step and tab (the address carries them). */
function CopyLink() {
  const [copied, setCopied] = useState<string | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setCopied('Link copied');
    } catch {
      setCopied('Copy the address from the address bar');
    }
  };
  return (
    <>
      <button type="button" className="quiet" onClick={() => void copy()} data-testid="copy-link">
        Copy link
      </button>
      <span role="status" className="muted">
        {copied}
      </span>
    </>
  );
}

function StepBody({ detail }: { detail: StepDetail }) {
  return (
    <div className="inspector-body">
      <dl className="facts">
        <dt>Event</dt>
        <dd>
          #{detail.seq} {detail.type}{' '}
          {detail.op !== undefined && <span className="muted">op {detail.op}</span>}
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={detail.status} />
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(detail.startedAt)}</dd>
        <dt>Took</dt>
        <dd>{formatDuration(detail.durationMs)}</dd>
        <dt>Identity</dt>
        <dd className="chain" data-testid="identity-chain">
          {detail.identity.chain}
        </dd>
        {detail.usage && (
          <>
            <dt>Tokens</dt>
            <dd>
              {formatCount(detail.usage.inputTokens)} in · {formatCount(detail.usage.outputTokens)} out
            </dd>
          </>
        )}
        {detail.costUsd !== undefined && (
          <>
            <dt>Cost</dt>
            <dd>{formatUsd(detail.costUsd)}</dd>
          </>
        )}
      </dl>

      {detail.tool && (
        <section>
          <h3>Tool call</h3>
          <p className="muted">
            {detail.tool.effect} · call {detail.tool.callId} · {detail.tool.attempts} attempt(s)
          </p>
          <h4>Arguments</h4>
          <JsonView value={detail.tool.args} label="Tool arguments" testId="tool-arguments" />
          {detail.tool.finalArgs !== undefined && (
            <>
              <h4>Arguments as run (changed by an interceptor or an approver)</h4>
              <JsonView value={detail.tool.finalArgs} label="Arguments as run" />
            </>
          )}
          {'result' in detail.tool && (
            <>
              <h4>Result</h4>
              <JsonView value={detail.tool.result} label="Tool result" testId="tool-result" />
            </>
          )}
          {detail.tool.error && (
            <>
              <h4>Error</h4>
              <p className="error">{detail.tool.error}</p>
            </>
          )}
        </section>
      )}

      {detail.model && (
        <section>
          <h3>Model call</h3>
          <p className="muted">
            {detail.model.provider}:{detail.model.model} · turn {detail.model.turn} ·{' '}
            {detail.model.finishReason}
            {detail.model.tools.length > 0 && ` · tools: ${detail.model.tools.join(', ')}`}
          </p>
          <h4>Prompt ({detail.model.request.length} messages)</h4>
          <ol className="messages" data-testid="prompt">
            {detail.model.request.map((message, index) => (
              <li key={index} className={`message role-${(message as { role: string }).role}`}>
                <span className="role">{(message as { role: string }).role}</span>
                <pre>{messageText(message)}</pre>
              </li>
            ))}
          </ol>
          <h4>Response</h4>
          <div className="message role-assistant" data-testid="response">
            <pre>{detail.model.response === undefined ? '—' : messageText(detail.model.response)}</pre>
          </div>
          {detail.model.parameters && <JsonView value={detail.model.parameters} label="Parameters" />}
        </section>
      )}

      <ReceivedSignals detail={detail} />

      {detail.agent && (
        <section>
          <h3>Agent</h3>
          {detail.agent.system !== undefined && (
            <>
              <h4>Instructions</h4>
              <pre className="prose">{messageText(detail.agent.system)}</pre>
            </>
          )}
          <h4>Task</h4>
          <pre className="prose">
            {detail.agent.task === undefined ? '—' : messageText(detail.agent.task)}
          </pre>
          {detail.agent.answer !== undefined && (
            <>
              <h4>Answer{detail.agent.turns !== undefined && ` (after ${detail.agent.turns} turns)`}</h4>
              <pre className="prose">{messageText(detail.agent.answer)}</pre>
            </>
          )}
        </section>
      )}

      {detail.approvals.length > 0 && (
        <section>
          <h3>Approval</h3>
          {detail.approvals.map((event, index) => (
            <div key={index} className="approval-event" data-testid="approval-event">
              <strong>{text(event.type).replace('approval.', '')}</strong>{' '}
              {event.type === 'approval.requested' && <span>{text(event.summary)}</span>}
              {event.type === 'approval.escalated' && (
                <span>to {(event.approvers as string[]).join(', ')}</span>
              )}
              {event.type === 'approval.decided' && (
                <span>
                  {text(event.decision)} by {text(event.by)}
                  {event.comment !== undefined && `: ${text(event.comment)}`}
                  {event.timedOut === true && ' (timed out)'}
                </span>
              )}
              <span className="muted"> · {formatTime(text(event.at))}</span>
              {event.type === 'approval.decided' && event.args !== undefined && (
                <JsonView value={event.args} label="Approved arguments" />
              )}
            </div>
          ))}
        </section>
      )}

      {detail.decisions.length > 0 && (
        <section>
          <h3>Policy decisions</h3>
          {detail.decisions.map((decision, index) => (
            <div key={index} className={`decision decision-${text(decision.decision)}`}>
              <strong>{text(decision.decision)}</strong> {text(decision.action)} {text(decision.resource)} —{' '}
              {text(decision.reason)}
              {Array.isArray(decision.policies) && decision.policies.length > 0 && (
                <span className="muted">
                  {' '}
                  by{' '}
                  {decision.policies.map((id: unknown, at: number) => (
                    <span key={String(id)}>
                      {at > 0 && ', '}
                      <PolicyText id={String(id)} />
                    </span>
                  ))}
                </span>
              )}
            </div>
          ))}
        </section>
      )}

      {detail.verdicts.length > 0 && (
        <section>
          <h3>Guardrails and approvals</h3>
          <table className="table compact">
            <thead>
              <tr>
                <th>By</th>
                <th>Phase</th>
                <th>Verdict</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {detail.verdicts.map((verdict, index) => (
                <tr key={index}>
                  <td>{text(verdict.interceptor ?? verdict.guardrail ?? verdict.type)}</td>
                  <td>{text(verdict.phase ?? verdict.stage ?? '')}</td>
                  <td>{text(verdict.verdict)}</td>
                  <td>
                    {text(verdict.reason ?? '')}
                    {typeof (verdict.data as { by?: unknown } | undefined)?.by === 'string' &&
                      ` (${(verdict.data as { by: string }).by})`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {detail.result !== undefined && (
        <section>
          <h3>Result</h3>
          <JsonView value={detail.result} label="Step result" />
        </section>
      )}
      {detail.error !== undefined && (
        <section>
          <h3>Error</h3>
          <JsonView value={detail.error} label="Error" />
        </section>
      )}

      <details>
        <summary>Journal events ({detail.events.length})</summary>
        {detail.events.map((event) => (
          <div key={event.seq} className="raw-event">
            <div className="muted">
              #{event.seq} {event.type} · {formatTime(event.at)} · {event.actor}
            </div>
            <JsonView value={event.payload} />
          </div>
        ))}
      </details>
    </div>
  );
}
