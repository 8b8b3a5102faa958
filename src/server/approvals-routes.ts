import { parseWith, readJson } from './read-json.ts';
import { ApprovalsQuery, DecideApprovalBody } from './schemas.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';

/** The approvals inbox: list, and approve (optionally with edited arguments) or deny. */
export function approvalsRoutes(app: ServerApp, parts: ServerParts): void {
  app.get('/api/approvals', async (c) => {
    const query = parseWith(ApprovalsQuery, c.req.query());
    const limit = Math.min(1000, Math.max(1, Number(query.limit ?? 200)));
    const approvals = await parts.inbox.list(c.get('caller'), {
      status: query.status ?? 'pending',
      mine: query.mine === 'true',
      ...(query.runId === undefined ? {} : { runId: query.runId }),
      limit,
    });
    return c.json({ approvals });
  });

  app.post('/api/runs/:runId/approvals/:approvalId', async (c) => {
    const body = await readJson(c.req.raw, DecideApprovalBody, parts.maxBodyBytes);
    const approval = await parts.inbox.decide(
      c.get('caller'),
      c.req.param('runId'),
      c.req.param('approvalId'),
      {
        decision: body.decision,
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        ...(body.args === undefined ? {} : { args: body.args }),
      },
    );
    return c.json({ approval }, 202);
  });
}
