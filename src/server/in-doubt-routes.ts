import { parseWith, readJson } from './read-json.ts';
import { InDoubtQuery, ResolveInDoubtBody } from './schemas.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';

/**
 * Tool calls a crash left in doubt: list them, and resolve one (retry, or skip with a result) as the
 * caller. Reading needs ReadRun on the run; resolving is a signal to the run, so it needs SignalRun.
 */
export function inDoubtRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate } = parts;

  app.get('/api/in-doubt', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(InDoubtQuery, c.req.query());
    const limit = Math.min(1000, Math.max(1, Number(query.limit ?? 200)));
    const scope = { tenant: caller.tenant };
    const calls =
      query.runId === undefined
        ? await baton.inDoubtCalls({ ...scope, limit })
        : await baton.inDoubt(query.runId, scope);
    const readable = new Map<string, boolean>();
    const visible = [];
    for (const call of calls) {
      if (!readable.has(call.runId)) {
        const run = await baton.getRun(call.runId, scope);
        readable.set(call.runId, gate.allowsRun(caller, 'ReadRun', run));
      }
      if (readable.get(call.runId)) visible.push(call);
    }
    return c.json({ calls: visible.slice(0, limit) });
  });

  app.post('/api/runs/:runId/in-doubt/:call', async (c) => {
    const caller = c.get('caller');
    const body = await readJson(c.req.raw, ResolveInDoubtBody, parts.maxBodyBytes);
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'SignalRun', run);
    const named = c.req.param('call');
    const call = await baton.resolveInDoubt(run.runId, {
      action: body.action,
      ...(/^\d+$/.test(named) ? { op: Number(named) } : { callId: named }),
      ...(body.result === undefined ? {} : { result: body.result }),
      as: caller.principal,
      tenant: caller.tenant,
    });
    return c.json({ call, action: body.action, by: caller.principal }, 202);
  });
}
