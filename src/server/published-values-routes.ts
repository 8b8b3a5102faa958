import { z } from 'zod';
import { toMilliseconds } from '../engine/duration.ts';
import { checkEventKey, waitForPublishedValue } from '../engine/published-values.ts';
import { HttpError } from './http-error.ts';
import { parseWith } from './read-json.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';

/** The longest a request may wait for a value to appear. */
const MAX_WAIT_MS = 60_000;

export const GetEventQuery = z.strictObject({
  timeout: z
    .string()
    .regex(/^\d+(ms|s|m)$/)
    .optional()
    .describe("Wait up to this long for the value to appear ('5s', '500ms'; at most 60 s). Default: no wait"),
});

export const PublishedValueSchema = z.object({
  key: z.string(),
  value: z.unknown(),
  seq: z.number().int().describe('The journal event that set it'),
  at: z.string(),
});

export const PublishedValuesResponse = z.object({ values: z.array(PublishedValueSchema) });
export const QueryResponse = z.object({ query: z.string(), result: z.unknown() });

/** Values runs publish (`ctx.setEvent`) and the queries workflows declare over them: read-only. */
export function publishedValuesRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate } = parts;

  const readableRun = async (caller: Parameters<typeof gate.checkRun>[0], runId: string) => {
    const run = await baton.getRun(runId, { tenant: caller.tenant });
    gate.checkRun(caller, 'ReadRun', run);
    return run;
  };

  app.get('/api/runs/:runId/events', async (c) => {
    const caller = c.get('caller');
    const run = await readableRun(caller, c.req.param('runId'));
    return c.json({ values: await baton.publishedValues(run.runId, { tenant: caller.tenant }) });
  });

  app.get('/api/runs/:runId/events/:key', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(GetEventQuery, c.req.query());
    const run = await readableRun(caller, c.req.param('runId'));
    const key = c.req.param('key');
    const timeoutMs = query.timeout === undefined ? 0 : toMilliseconds(query.timeout, 'timeout');
    if (timeoutMs > MAX_WAIT_MS)
      throw new HttpError(
        'INVALID_REQUEST',
        `timeout: at most ${MAX_WAIT_MS / 1000} s, got ${query.timeout}.`,
      );
    checkEventKey(key);
    const value = await waitForPublishedValue(baton.store, run.runId, key, {
      timeoutMs,
      pollMs: parts.pollMs,
      scope: { tenant: caller.tenant },
    });
    if (value === undefined)
      throw new HttpError(
        'NOT_FOUND',
        `Run ${run.runId} has not published '${key}'${timeoutMs > 0 ? ` (waited ${query.timeout})` : ''}.`,
      );
    return c.json(value);
  });

  app.get('/api/runs/:runId/queries/:name', async (c) => {
    const caller = c.get('caller');
    const run = await readableRun(caller, c.req.param('runId'));
    const name = c.req.param('name');
    const result = await baton.query(run.runId, name, { tenant: caller.tenant });
    return c.json({ query: name, result: result ?? null });
  });
}
