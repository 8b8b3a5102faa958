import type { LoadedPolicy } from '../access/policy-source.ts';
import { HttpError } from './http-error.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';

/** A Cedar policy as the API shows it: its text and where it was written. */
export interface PolicyView {
  id: string;
  effect: 'permit' | 'forbid';
  text: string;
  file: string;
  line: number;
  /** `runs`: decides what runs do (tool calls, handoffs, children); `api`: decides what callers of this server may do. */
  scope: 'runs' | 'api';
}

/** The Cedar policies behind the decisions the journal records and this server makes, by id. */
export function policiesRoutes(app: ServerApp, parts: ServerParts): void {
  const all = (): PolicyView[] => [
    ...(parts.baton.access.policies?.policies ?? []).map((policy) => viewOf(policy, 'runs')),
    ...(parts.gate.policies?.policies ?? []).map((policy) => viewOf(policy, 'api')),
  ];
  app.get('/api/policies', (c) => c.json({ policies: all() }));
  app.get('/api/policies/:id', (c) => {
    const id = c.req.param('id');
    const found = all().filter((policy) => policy.id === id);
    if (found.length === 0)
      throw new HttpError('NOT_FOUND', `No policy '${id}' is loaded here (GET /api/policies lists them).`);
    return c.json({ policies: found });
  });
}

function viewOf(policy: LoadedPolicy, scope: PolicyView['scope']): PolicyView {
  return {
    id: policy.id,
    effect: policy.effect,
    text: policy.text,
    file: policy.file,
    line: policy.line,
    scope,
  };
}
