import type { AccessDecision } from './access-request.ts';

/** `policy support-agents-read`, `outside grant grant_…`, `default deny (no policy permits it)` */
export function explainDecision(decision: AccessDecision): string {
  switch (decision.reason) {
    case 'policy':
      return `${decision.decision === 'allow' ? 'permitted' : 'forbidden'} by policy ${decision.policies.join(', ')}`;
    case 'default deny':
      return 'no policy permits it (default deny)';
    case 'outside grant':
      return `${decision.grantAction} is outside grant ${decision.grantId ?? '(none)'}`;
    case 'grant expired':
      return `grant ${decision.grantId ?? ''} has expired`;
    case 'other tenant':
      return `it belongs to another tenant`;
    case 'evaluation error':
      return `the request could not be evaluated: ${decision.errors.join('; ')}`;
    case 'grant':
      return `${decision.grantAction} is within grant ${decision.grantId ?? '(none)'} (no policies are configured)`;
    case 'delegation widens':
    case 'delegation too deep':
      return `${decision.reason}: ${decision.errors.join('; ')}`;
  }
}
