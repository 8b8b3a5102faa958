import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { workflow } from '../../src/context-layers.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { until } from '../support/harness.ts';
import { waiter } from '../support/sample-workflows.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

type Json = Record<string, any>;
const body = async (response: Response): Promise<Json> => (await response.json()) as Json;

/** 30 steps, then a wait: a journal of a few dozen events to page through. */
const thirtySteps = workflow('thirty-steps', async (ctx) => {
  for (let index = 0; index < 30; index++) await ctx.step(`step-${index}`, () => 'x'.repeat(200));
  return ctx.waitFor('go');
});

/** A workflow with a declared input: the server serves its JSON Schema and refuses input that does not fit. */
const refund = workflow(
  'refund-form',
  async (ctx, input: { chargeId: string; cents: number }) =>
    ctx.step('refund', () => `${input.chargeId}:${input.cents}`),
  {
    input: z.object({
      chargeId: z.string().min(3).describe('The charge to refund'),
      cents: z.int().positive(),
      reason: z.enum(['duplicate', 'fraud', 'requested']).optional(),
    }),
  },
);

describe('the HTTP door: pages, compression, CORS, descriptions and sentences', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      workflows: [waiter, thirtySteps, refund],
      cors: { origins: ['https://app.example.com'] },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  async function parkedRun(): Promise<string> {
    const started = await body(
      await server.call('/api/runs', { method: 'POST', json: { workflow: 'thirty-steps' } }),
    );
    const runId = started.run.runId as string;
    await until(
      async () =>
        (await body(await server.call(`/api/runs/${runId}`))).run.status === 'waiting' ? true : undefined,
      'the run to park',
    );
    return runId;
  }

  it('pages a journal by cursor: every event once, in order, and no cursor after the last page', async () => {
    const runId = await parkedRun();
    const whole = (await body(await server.call(`/api/runs/${runId}/journal?limit=5000`)))
      .events as JournalEvent[];
    expect(whole.length).toBeGreaterThan(30);
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await body(
        await server.call(`/api/runs/${runId}/journal?limit=7${cursor ? `&cursor=${cursor}` : ''}`),
      );
      pages++;
      expect(page.events.length).toBeLessThanOrEqual(7);
      seen.push(...page.events.map((event: JournalEvent) => event.seq));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(whole.map((event) => event.seq));
    expect(pages).toBe(Math.ceil(whole.length / 7));
    const bad = await server.call(`/api/runs/${runId}/journal?limit=0`);
    expect(bad.status).toBe(400);
    expect((await body(bad)).error.message).toContain('from 1 to 5000');
  });

  it('compresses answers with Brotli or gzip when the client accepts them, and never an event stream', async () => {
    const runId = await parkedRun();
    const path = `/api/runs/${runId}/journal`;
    const plain = await server.call(path, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    const events = (await body(plain)).events;
    const brotli = await server.call(path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(brotli.headers.get('content-encoding')).toBe('br');
    expect(brotli.headers.get('vary')).toContain('Accept-Encoding');
    expect((await body(brotli)).events).toEqual(events);
    const gzip = await server.call(path, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect((await body(gzip)).events).toEqual(events);
    const refusesBrotli = await server.call(path, { headers: { 'accept-encoding': 'br;q=0, gzip' } });
    expect(refusesBrotli.headers.get('content-encoding')).toBe('gzip');
    await refusesBrotli.arrayBuffer();

    const controller = new AbortController();
    const stream = await server.call(`/api/runs/${runId}/stream`, {
      headers: { 'accept-encoding': 'gzip, br' },
      signal: controller.signal,
    });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(stream.headers.get('content-encoding')).toBeNull();
    controller.abort();
  });

  it('lets a configured origin call from a browser (preflight and answer), and no other', async () => {
    const preflight = await server.call('/api/runs', {
      method: 'OPTIONS',
      as: null,
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const answer = await server.call('/api/runs', { headers: { origin: 'https://app.example.com' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const refused = await server.call('/api/runs', {
      as: null,
      headers: { origin: 'https://app.example.com' },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://app.example.com');

    const other = await server.call('/api/runs', { headers: { origin: 'https://evil.example.net' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('describes shared shapes once, in components, and refers to them', async () => {
    const document = await body(await server.call('/api/openapi.json', { as: null }));
    const schemas = document.components.schemas;
    for (const name of ['Run', 'Event', 'Error', 'Approval', 'InDoubtCall', 'Worker', 'RunEvidence'])
      expect(schemas[name], name).toBeDefined();
    expect(schemas.Run.properties.runId).toEqual({ type: 'string' });
    const journal =
      document.paths['/api/runs/{runId}/journal'].get.responses['200'].content['application/json'].schema;
    expect(journal.properties.run).toEqual({ $ref: '#/components/schemas/Run' });
    expect(journal.properties.events.items).toEqual({ $ref: '#/components/schemas/Event' });
    expect(
      document.paths['/api/runs/{runId}'].get.responses['404'].content['application/json'].schema,
    ).toEqual({
      $ref: '#/components/schemas/Error',
    });
    // Every reference resolves.
    const references = JSON.stringify(document).match(/#\/components\/schemas\/[\w-]+/g) ?? [];
    for (const reference of new Set(references))
      expect(schemas[reference.split('/').at(-1)!], reference).toBeDefined();
  });

  it('says what is wrong with a request in sentences', async () => {
    const wrongType = await body(
      await server.call('/api/runs', { method: 'POST', json: { workflow: 'waiter', priority: 'high' } }),
    );
    expect(wrongType.error.message).toBe('`priority` must be a number, not text "high".');
    const unknown = await body(
      await server.call('/api/runs', { method: 'POST', json: { workflow: 'waiter', prio: 1 } }),
    );
    expect(unknown.error.message).toBe(
      'The request body has a field it does not know: `prio`. It accepts `workflow`, `input`, `priority`, `timeout`, `metadata`.',
    );
    const missing = await body(await server.call('/api/runs', { method: 'POST', json: {} }));
    expect(missing.error.message).toBe('The request body needs `workflow` (text).');
    const query = await body(await server.call('/api/runs?limit=many'));
    expect(query.error.message).toBe('`limit` must be a whole number, not text "many".');
    const time = await body(await server.call('/api/runs?since=yesterday'));
    expect(time.error.message).toBe(
      '`since` must be an ISO-8601 time or epoch milliseconds, not text "yesterday".',
    );
    const choice = await body(
      await server.call('/api/runs/run_x/approvals/a', { method: 'POST', json: { decision: 'maybe' } }),
    );
    expect(choice.error.message).toBe('`decision` must be one of "approve", "deny", not text "maybe".');
  });

  it("serves a workflow's input schema as JSON Schema, and refuses a start whose input does not fit", async () => {
    const { workflows } = await body(await server.call('/api/workflows'));
    const form = workflows.find((item: Json) => item.name === 'refund-form');
    expect(form.inputSchema).toMatchObject({
      type: 'object',
      required: ['chargeId', 'cents'],
      properties: {
        chargeId: { type: 'string', minLength: 3, description: 'The charge to refund' },
        cents: { type: 'integer', exclusiveMinimum: 0 },
        reason: { enum: ['duplicate', 'fraud', 'requested'] },
      },
    });
    expect(workflows.find((item: Json) => item.name === 'waiter')).not.toHaveProperty('inputSchema');
    const refused = await server.call('/api/runs', {
      method: 'POST',
      json: { workflow: 'refund-form', input: { chargeId: 'ch', cents: -5 } },
    });
    expect(refused.status).toBe(400);
    const error = (await body(refused)).error;
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('chargeId');
    expect(error.message).toContain('cents');
    const started = await server.call('/api/runs', {
      method: 'POST',
      json: { workflow: 'refund-form', input: { chargeId: 'ch_42', cents: 1250 } },
    });
    expect(started.status).toBe(201);
  });

  it('forks a run at a seq as the caller, and refuses a seq past its journal', async () => {
    const runId = await parkedRun();
    const forked = await server.call(`/api/runs/${runId}/fork`, { method: 'POST', json: { at: 10 } });
    expect(forked.status).toBe(201);
    const fork = (await body(forked)).run;
    expect(fork.runId).not.toBe(runId);
    expect(fork.metadata.forkOf).toMatchObject({ runId, seq: 10 });
    expect(forked.headers.get('location')).toBe(`/api/runs/${fork.runId}`);
    const events = (await body(await server.call(`/api/runs/${fork.runId}/journal`)))
      .events as JournalEvent[];
    const note = events.find((event) => event.type === 'run.forked')!;
    expect(note.actor).toBe('user:alice');
    const tooFar = await server.call(`/api/runs/${runId}/fork`, { method: 'POST', json: { at: 9999 } });
    expect(tooFar.status).toBe(400);
    expect((await body(tooFar)).error.code).toBe('FORK_POINT');
    const otherTenant = await server.call(`/api/runs/${runId}/fork`, {
      method: 'POST',
      as: 'mallory',
      json: { at: 3 },
    });
    expect(otherTenant.status).toBe(404);
  });
});

/** A step that runs until the test lets it finish: its run stays on its worker. */
let release: () => void = () => undefined;
const busy = workflow('busy', async (ctx) =>
  ctx.step('hold', () => new Promise<string>((resolve) => (release = () => resolve('done')))),
);

describe('the HTTP door: workers', () => {
  it('lists the connected worker with the runs it executes, and none once it has stopped', async () => {
    const server = await startTestServer({ workflows: [waiter, busy] });
    try {
      const listed = await until(async () => {
        const answer = await body(await server.call('/api/workers'));
        return answer.connected === 1 ? answer : undefined;
      }, 'the worker to beat');
      expect(listed.tracked).toBe(true);
      const [worker] = listed.workers;
      expect(worker.workerId).toBe(server.baton.worker!.id);
      expect(worker.alive).toBe(true);
      expect(worker.pid).toBe(process.pid);
      expect(worker.workflows).toEqual(['waiter', 'busy']);
      expect(worker.runs).toEqual([]);

      const started = await body(
        await server.call('/api/runs', { method: 'POST', json: { workflow: 'busy' } }),
      );
      const running = await until(async () => {
        const answer = await body(await server.call('/api/workers'));
        return answer.workers[0].busy === 1 ? answer.workers[0] : undefined;
      }, 'the next beat to name the run');
      expect(running.runs).toEqual([{ runId: started.run.runId, workflow: 'busy', status: 'running' }]);
      // Another tenant sees the worker is busy, not with what.
      const theirs = (await body(await server.call('/api/workers', { as: 'mallory' }))).workers[0];
      expect(theirs.busy).toBe(1);
      expect(theirs.runs).toEqual([]);
      release();
      await until(
        async () =>
          (await body(await server.call(`/api/runs/${started.run.runId}`))).run.status === 'completed'
            ? true
            : undefined,
        'the run to finish',
      );
      await server.baton.worker!.stop();
      const after = await body(await server.call('/api/workers'));
      expect(after).toEqual({ tracked: true, connected: 0, workers: [] });
    } finally {
      await server.close();
    }
  });
});
