import { useState } from 'react';
import { api } from '../api.ts';
import type { PolicyView } from '../../../src/server/policies-routes.ts';

/** A policy a decision names: its id, and on demand the Cedar text behind it (fetched once). */
export function PolicyText(props: { id: string }) {
  const [open, setOpen] = useState(false);
  const [policies, setPolicies] = useState<PolicyView[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const toggle = () => {
    setOpen(!open);
    if (policies || open) return;
    api.policy(props.id).then(
      (answer) => setPolicies(answer.policies),
      (reason: unknown) => setError(reason instanceof Error ? reason.message : String(reason)),
    );
  };
  return (
    <span className="policy">
      <button
        type="button"
        className="linkish"
        aria-expanded={open}
        onClick={toggle}
        data-testid="policy-toggle"
        data-policy={props.id}
      >
        {props.id}
      </button>
      {open && (
        <span className="policy-text" data-testid="policy-text">
          {error && <span className="error">{error}</span>}
          {!error && !policies && <span className="muted">Loading…</span>}
          {policies?.map((policy) => (
            <span key={`${policy.scope}:${policy.file}:${policy.line}`} className="policy-block">
              <span className="muted">
                {policy.effect} · {policy.file}:{policy.line}
              </span>
              <pre>{policy.text}</pre>
            </span>
          ))}
        </span>
      )}
    </span>
  );
}
