import { audit } from '../access/audit.ts';
import { HttpError } from './http-error.ts';
import { parseWith } from './read-json.ts';
import { AuditQuery } from './schemas.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';

/** The audit trail: who did what, for whom, under which grant and policies, in the caller's tenant. */
export function auditRoutes(app: ServerApp, parts: ServerParts): void {
  app.get('/api/audit', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(AuditQuery, c.req.query());
    if (!parts.baton.store.queryEvents)
      throw new HttpError(
        'INVALID_REQUEST',
        `The store at ${parts.baton.store.location} cannot search events across runs, so it has no audit trail to show.`,
      );
    const limit = query.limit === undefined ? 200 : Number(query.limit);
    if (limit < 1 || limit > 5000)
      throw new HttpError('INVALID_REQUEST', `\`limit\` must be from 1 to 5000 (it was ${limit}).`);
    const entries = await audit(parts.baton.store, {
      tenant: caller.tenant,
      limit,
      now: parts.baton.clock(),
      ...(query.agent === undefined ? {} : { agent: query.agent }),
      ...(query.action === undefined ? {} : { action: query.action }),
      ...(query.as === undefined ? {} : { as: query.as }),
      ...(query.decision === undefined ? {} : { decision: query.decision }),
      ...(query.runId === undefined ? {} : { runId: query.runId }),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.until === undefined ? {} : { until: query.until }),
    });
    if (!parts.gate.enforcing) return c.json({ entries });
    const readable = new Map<string, boolean>();
    for (const runId of new Set(entries.map((entry) => entry.runId))) {
      const run = await parts.baton.store.getRun(runId, { tenant: caller.tenant });
      readable.set(runId, run !== undefined && parts.gate.allowsRun(caller, 'ReadRun', run));
    }
    return c.json({ entries: entries.filter((entry) => readable.get(entry.runId)) });
  });
}
