import { SignJWT } from 'jose';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyEngine } from '../../src/access/policy-engine.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { API_OPERATIONS } from '../../src/server/openapi.ts';
import { runUrl } from '../../src/server/run-url.ts';
import { until } from '../support/harness.ts';
import { diamond, refunded, supportWorkflow, waiter } from '../support/sample-workflows.ts';
import { AUTH, readFrames, startTestServer, type TestServer, TOKENS } from '../support/test-server.ts';

type Json = Record<string, any>;
const body = async (response: Response): Promise<Json> => (await response.json()) as Json;

describe('the HTTP API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [waiter, diamond], maxBodyBytes: 4096 });
  });
  afterAll(async () => {
    await server.close();
  });

  const start = async (
    input: unknown = { name: 'Ada' },
    as: 'alice' | 'bob' | 'mallory' = 'alice',
    headers: Record<string, string> = {},
  ) => server.call('/api/runs', { method: 'POST', as, headers, json: { workflow: 'waiter', input } });

  describe('at the door', () => {
    it('refuses a request without a token, with a bad token, or with a malformed header (401, UNAUTHENTICATED)', async () => {
      for (const headers of [
        {},
        { authorization: 'Bearer not-a-token-at-all-000000' },
        { authorization: 'Basic abc' },
      ] as Record<string, string>[]) {
        const response = await server.call('/api/runs', { as: null, headers });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toContain('Bearer');
        expect((await body(response)).error.code).toBe('UNAUTHENTICATED');
      }
    });

    it('accepts a JWT signed with the configured secret, its sub as the principal and its tenant claim', async () => {
      const secret = new TextEncoder().encode(AUTH.jwt.secret);
      const token = await new SignJWT({ tenant: 'acme' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('carol')
        .setExpirationTime('5m')
        .sign(secret);
      const me = await server.call('/api/me', { as: null, headers: { authorization: `Bearer ${token}` } });
      expect(await body(me)).toMatchObject({ principal: 'user:carol', tenant: 'acme', via: 'jwt' });

      const expired = await new SignJWT({ tenant: 'acme' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('carol')
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(secret);
      const late = await server.call('/api/me', {
        as: null,
        headers: { authorization: `Bearer ${expired}` },
      });
      expect(late.status).toBe(401);
      expect((await body(late)).error.message).toContain('expired');

      const forged = await new SignJWT({ tenant: 'acme' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('carol')
        .sign(new TextEncoder().encode('another-secret-of-at-least-32-characters!!'));
      expect(
        (await server.call('/api/me', { as: null, headers: { authorization: `Bearer ${forged}` } })).status,
      ).toBe(401);

      const tenantless = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('carol')
        .sign(secret);
      const noTenant = await server.call('/api/me', {
        as: null,
        headers: { authorization: `Bearer ${tenantless}` },
      });
      expect(noTenant.status).toBe(401);
      expect((await body(noTenant)).error.message).toContain('tenant');
    });

    it('answers malformed JSON with 400 MALFORMED_JSON and writes nothing', async () => {
      const before = (await body(await server.call('/api/runs'))).runs.length;
      const response = await server.call('/api/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"workflow": "waiter", "input": ',
      });
      expect(response.status).toBe(400);
      expect((await body(response)).error.code).toBe('MALFORMED_JSON');
      expect((await body(await server.call('/api/runs'))).runs.length).toBe(before);
    });

    it('answers a body of the wrong shape with 400 INVALID_REQUEST naming the field', async () => {
      const response = await server.call('/api/runs', {
        method: 'POST',
        json: { workflow: 'waiter', priority: 'high' },
      });
      expect(response.status).toBe(400);
      const error = (await body(response)).error;
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('priority');
    });

    it('answers an oversize body with 413 BODY_TOO_LARGE, declared or streamed', async () => {
      const big = JSON.stringify({ workflow: 'waiter', input: { name: 'x'.repeat(10_000) } });
      const declared = await server.call('/api/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
      });
      expect(declared.status).toBe(413);
      expect((await body(declared)).error.code).toBe('BODY_TOO_LARGE');

      // Chunked, with no Content-Length: cut off as it grows past the limit.
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let index = 0; index < 10; index++)
            controller.enqueue(encoder.encode(big.slice(index * 1100, (index + 1) * 1100)));
          controller.close();
        },
      });
      const streamed = await server.call('/api/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect((await body(streamed)).error.code).toBe('BODY_TOO_LARGE');
    });

    it('answers an unknown run id with 404 RUN_NOT_FOUND, and an unknown route with 404 NOT_FOUND', async () => {
      for (const path of ['/api/runs/run_nope', '/api/runs/run_nope/journal', '/api/runs/run_nope/stream']) {
        const response = await server.call(path);
        expect(response.status).toBe(404);
        expect((await body(response)).error.code).toBe('RUN_NOT_FOUND');
      }
      const signal = await server.call('/api/runs/run_nope/signals', {
        method: 'POST',
        json: { name: 'go' },
      });
      expect((await body(signal)).error.code).toBe('RUN_NOT_FOUND');
      const route = await server.call('/api/nothing-here');
      expect(route.status).toBe(404);
      expect((await body(route)).error.code).toBe('NOT_FOUND');
    });

    it("hides another tenant's run: 404, not 403, for every action, and it is not listed", async () => {
      const { run } = await body(await start({ name: 'Acme' }));
      for (const [path, init] of [
        [`/api/runs/${run.runId}`, {}],
        [`/api/runs/${run.runId}/journal`, {}],
        [`/api/runs/${run.runId}/costs`, {}],
        [`/api/runs/${run.runId}/stream`, {}],
        [`/api/runs/${run.runId}/signals`, { method: 'POST', json: { name: 'go' } }],
        [`/api/runs/${run.runId}/cancel`, { method: 'POST', json: {} }],
        [
          `/api/runs/${run.runId}/approvals/baton.approve:1`,
          { method: 'POST', json: { decision: 'approve' } },
        ],
      ] as const) {
        const response = await server.call(path, { ...init, as: 'mallory' });
        expect([path, response.status]).toEqual([path, 404]);
        expect((await body(response)).error.code).toBe('RUN_NOT_FOUND');
      }
      const listed = await body(await server.call('/api/runs', { as: 'mallory' }));
      expect(listed.runs.map((candidate: Json) => candidate.runId)).not.toContain(run.runId);
      expect((await body(await server.call('/api/runs?tenant=acme', { as: 'mallory' }))).runs).toEqual([]);
    });

    it("refuses the engine's own signal names at the signals endpoint (approvals go through their own)", async () => {
      const { run } = await body(await start());
      const response = await server.call(`/api/runs/${run.runId}/signals`, {
        method: 'POST',
        json: { name: 'baton.approve:3', payload: { approved: true } },
      });
      expect(response.status).toBe(400);
      expect((await body(response)).error.message).toContain('approvals');
    });
  });

  describe('runs', () => {
    it('starts a run as the caller, once per idempotency key', async () => {
      const first = await start({ name: 'Ada' }, 'alice', { 'idempotency-key': 'ticket-1' });
      expect(first.status).toBe(201);
      const created = await body(first);
      expect(created).toMatchObject({
        created: true,
        run: { workflow: 'waiter', principal: 'user:alice', tenant: 'acme', input: { name: 'Ada' } },
      });
      expect(first.headers.get('location')).toBe(`/api/runs/${created.run.runId}`);
      const again = await start({ name: 'Ada' }, 'alice', { 'idempotency-key': 'ticket-1' });
      expect(again.status).toBe(200);
      expect(await body(again)).toMatchObject({ created: false, run: { runId: created.run.runId } });
      // The same key in another tenant is another run.
      const elsewhere = await body(
        await start({ name: 'Ada' }, 'mallory', { 'idempotency-key': 'ticket-1' }),
      );
      expect(elsewhere.run.runId).not.toBe(created.run.runId);
    });

    it('answers an unknown workflow with 404 UNKNOWN_WORKFLOW', async () => {
      const response = await server.call('/api/runs', { method: 'POST', json: { workflow: 'nope' } });
      expect(response.status).toBe(404);
      expect((await body(response)).error).toMatchObject({ code: 'UNKNOWN_WORKFLOW' });
    });

    it('reads a run and its journal, signals it, and sees it complete', async () => {
      const { run } = await body(await start({ name: 'Grace' }));
      await until(
        async () =>
          (await body(await server.call(`/api/runs/${run.runId}`))).run.status === 'waiting'
            ? true
            : undefined,
        'the run to wait',
      );
      const journal = await body(await server.call(`/api/runs/${run.runId}/journal`));
      expect(journal.events.map((event: JournalEvent) => event.type)).toEqual([
        'run.started',
        'step.completed',
        'signal.awaited',
      ]);
      expect(journal.run).not.toHaveProperty('leaseOwner');

      const sent = await server.call(`/api/runs/${run.runId}/signals`, {
        method: 'POST',
        json: { name: 'go', payload: { reply: 'hi' } },
      });
      expect(sent.status).toBe(202);
      const done = await until(async () => {
        const current = (await body(await server.call(`/api/runs/${run.runId}`))).run;
        return current.status === 'completed' ? current : undefined;
      }, 'the run to complete');
      expect(done.result).toEqual({ greeting: 'Hello, Grace', reply: 'hi' });
      const late = await server.call(`/api/runs/${run.runId}/signals`, {
        method: 'POST',
        json: { name: 'go' },
      });
      expect(late.status).toBe(409);
      expect((await body(late)).error.code).toBe('RUN_FINISHED');
    });

    it('cancels a run', async () => {
      const { run } = await body(await start({ name: 'Linus' }));
      const response = await server.call(`/api/runs/${run.runId}/cancel`, {
        method: 'POST',
        json: { reason: 'no longer needed' },
      });
      expect(response.status).toBe(202);
      const cancelled = await until(async () => {
        const current = (await body(await server.call(`/api/runs/${run.runId}`))).run;
        return current.status === 'cancelled' ? current : undefined;
      }, 'the run to be cancelled');
      expect(cancelled.metadata.cancelReason).toBe('no longer needed');
      expect((await server.call(`/api/runs/${run.runId}/cancel`, { method: 'POST', json: {} })).status).toBe(
        409,
      );
    });

    it('lists and searches runs by status, workflow and time, page by page without gaps', async () => {
      const own = await startTestServer({ workflows: [waiter, diamond], worker: false });
      try {
        const ids: string[] = [];
        for (let index = 0; index < 7; index++) {
          const response = await own.call('/api/runs', {
            method: 'POST',
            json: { workflow: index % 2 ? 'diamond' : 'waiter', input: { name: `n${index}` } },
          });
          ids.push((await body(response)).run.runId);
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await body(
            await own.call(`/api/runs?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
          );
          expect(page.runs.length).toBeLessThanOrEqual(3);
          seen.push(...page.runs.map((run: Json) => run.runId));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toEqual([...ids].reverse());

        const graphs = await body(await own.call('/api/runs?workflow=diamond'));
        expect(graphs.runs.map((run: Json) => run.runId)).toEqual([ids[5], ids[3], ids[1]]);
        const pending = await body(await own.call('/api/runs?status=pending,running'));
        expect(pending.runs).toHaveLength(7);
        expect((await body(await own.call('/api/runs?status=completed'))).runs).toEqual([]);
        const future = new Date(Date.now() + 3_600_000).toISOString();
        expect((await body(await own.call(`/api/runs?since=${future}`))).runs).toEqual([]);
        expect((await body(await own.call(`/api/runs?until=${future}`))).runs).toHaveLength(7);
        const bad = await own.call('/api/runs?status=finished');
        expect(bad.status).toBe(400);
        expect((await body(bad)).error.code).toBe('INVALID_REQUEST');
      } finally {
        await own.close();
      }
    });

    it('answers 429 with Retry-After when admission is bounded and full, writing nothing', async () => {
      const own = await startTestServer({ worker: false, maxQueuedRuns: 1 });
      try {
        expect(
          (
            await own.call('/api/runs', {
              method: 'POST',
              json: { workflow: 'waiter', input: { name: 'a' } },
            })
          ).status,
        ).toBe(201);
        const refused = await own.call('/api/runs', {
          method: 'POST',
          json: { workflow: 'waiter', input: { name: 'b' } },
        });
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect((await body(refused)).error.code).toBe('OVERLOADED');
        expect((await body(await own.call('/api/runs'))).runs).toHaveLength(1);
      } finally {
        await own.close();
      }
    });
  });

  describe('agent runs', () => {
    it('shows model calls with their prompt resolved, tool arguments, costs, and the guard’s approvals; an approver edits the arguments', async () => {
      const own = await startTestServer({ workflows: [supportWorkflow()] });
      try {
        const { run } = await body(
          await own.call('/api/runs', {
            method: 'POST',
            json: { workflow: 'support', input: { ticket: 'T-7' } },
          }),
        );
        const approval = await until(
          async () => (await body(await own.call('/api/approvals'))).approvals[0],
          'the refund to wait for approval',
        );
        expect(approval).toMatchObject({
          runId: run.runId,
          source: 'guard',
          kind: 'tool',
          name: 'payments.refund',
          status: 'pending',
          args: { chargeId: 'ch_42', cents: 1250 },
          effect: 'irreversible',
          requestedBy: 'user:alice',
          // The guard's default rule: the run's own principal does not approve its own refund.
          canDecide: false,
        });
        expect((await body(await own.call('/api/approvals?mine=true'))).approvals).toEqual([]);
        expect(
          (await body(await own.call('/api/approvals?mine=true', { as: 'bob' }))).approvals,
        ).toMatchObject([{ approvalId: approval.approvalId, canDecide: true }]);
        expect((await body(await own.call('/api/approvals', { as: 'mallory' }))).approvals).toEqual([]);

        const journal = await body(await own.call(`/api/runs/${run.runId}/journal`));
        const call = journal.events.find((event: JournalEvent) => event.type === 'llm.called');
        // Every message a request names by hash is in the journal's message map.
        for (const hash of call.payload.request.append) expect(journal.messages[hash]).toBeDefined();
        const model = await body(await own.call(`/api/runs/${run.runId}/journal/${call.seq}`));
        expect(model.model.request.map((message: Json) => message.role)).toEqual(['system', 'user']);
        expect(model.model.request[1].content[0].text).toBe('Ticket T-7: refund charge ch_42');
        expect(model.identity.chain).toBe('agent:billing for workflow:support for user:alice');
        expect(model.usage).toEqual({ inputTokens: 120, outputTokens: 20 });

        const lookups = journal.events.filter(
          (event: Json) => event.type === 'tool.requested' && event.payload.name === 'docs.lookup',
        );
        const lookup = await body(await own.call(`/api/runs/${run.runId}/journal/${lookups[1].seq}`));
        expect(lookup.tool).toMatchObject({
          args: { word: 'charge' },
          result: { word: 'charge', meaning: 'the meaning of charge' },
          effect: 'read',
        });

        const path = `/api/runs/${run.runId}/approvals/${encodeURIComponent(approval.approvalId)}`;
        const byAlice = await own.call(path, { method: 'POST', json: { decision: 'approve' } });
        expect(byAlice.status).toBe(403);
        expect((await body(byAlice)).error.code).toBe('APPROVAL_FORBIDDEN');
        expect(
          (await own.call(path, { method: 'POST', as: 'bob', json: { decision: 'deny', args: {} } })).status,
        ).toBe(400);
        const badArgs = await own.call(path, {
          method: 'POST',
          as: 'bob',
          json: { decision: 'approve', args: { chargeId: 'ch_42', cents: 'lots' } },
        });
        expect(badArgs.status).toBe(400);
        expect((await body(badArgs)).error.code).toBe('INVALID_APPROVAL_ARGUMENTS');
        const decided = await own.call(path, {
          method: 'POST',
          as: 'bob',
          json: { decision: 'approve', args: { chargeId: 'ch_42', cents: 1000 }, reason: 'partial refund' },
        });
        expect(decided.status).toBe(202);
        const twice = await own.call(path, { method: 'POST', as: 'bob', json: { decision: 'approve' } });
        expect(twice.status).toBe(409);
        expect((await body(twice)).error.code).toBe('APPROVAL_ALREADY_DECIDED');

        const done = await until(async () => {
          const current = (await body(await own.call(`/api/runs/${run.runId}`))).run;
          return current.status === 'completed' ? current : undefined;
        }, 'the run to complete');
        expect(done.result).toBe('Refunded: {"refunded":1000,"chargeId":"ch_42"}');
        expect(refunded).toContainEqual({ chargeId: 'ch_42', cents: 1000 });
        const all = await body(await own.call(`/api/approvals?status=all&runId=${run.runId}`));
        expect(all.approvals).toMatchObject([
          {
            status: 'approved',
            decidedBy: 'user:bob',
            comment: 'partial refund',
            approvedArgs: { chargeId: 'ch_42', cents: 1000 },
          },
        ]);

        const refundCall = (await body(await own.call(`/api/runs/${run.runId}/journal`))).events.find(
          (event: Json) => event.type === 'tool.requested' && event.payload.name === 'payments.refund',
        );
        const step = await body(await own.call(`/api/runs/${run.runId}/journal/${refundCall.seq}`));
        expect(step.tool).toMatchObject({
          args: { chargeId: 'ch_42', cents: 1250 },
          finalArgs: { chargeId: 'ch_42', cents: 1000 },
          result: { refunded: 1000 },
        });
        expect(step.verdicts.map((verdict: Json) => [verdict.interceptor, verdict.verdict])).toEqual([
          ['guard.approval', 'park'],
          [expect.stringMatching(/^signal:baton\.approval:/), 'rewrite'],
        ]);
        expect(step.events.map((event: Json) => event.type)).toEqual(
          expect.arrayContaining(['approval.requested', 'approval.decided']),
        );

        const costs = await body(await own.call(`/api/runs/${run.runId}/costs`));
        expect(costs.total.calls).toBe(3);
        expect(costs.byAgent.map((line: Json) => line.agent)).toEqual(['billing']);
        expect(costs.byModel.map((line: Json) => line.model)).toEqual(['baton-testing:scripted-support']);
        expect(costs.total.inputTokens).toBeGreaterThanOrEqual(300);
        const tenant = await body(await own.call('/api/costs'));
        expect(tenant.byRun.map((line: Json) => line.runId)).toEqual([run.runId]);
        expect((await body(await own.call('/api/costs', { as: 'mallory' }))).total.calls).toBe(0);
        expect(
          (await body(await own.call('/api/runs?agent=billing'))).runs.map(
            (candidate: Json) => candidate.runId,
          ),
        ).toEqual([run.runId]);
        expect((await body(await own.call('/api/runs?agent=nobody'))).runs).toEqual([]);
      } finally {
        await own.close();
      }
    });

    it('shows and decides a call parked by a plain interceptor, by its park signal', async () => {
      const own = await startTestServer({ workflows: [supportWorkflow()], gate: 'interceptor' });
      try {
        const { run } = await body(
          await own.call('/api/runs', {
            method: 'POST',
            json: { workflow: 'support', input: { ticket: 'T-8' } },
          }),
        );
        const approval = await until(
          async () => (await body(await own.call('/api/approvals'))).approvals[0],
          'the park',
        );
        expect(approval).toMatchObject({
          source: 'interceptor',
          approvalId: expect.stringMatching(/^baton\.approve:\d+$/),
          kind: 'tool',
          name: 'payments.refund',
          requestedBy: 'agent:billing',
          canDecide: true,
        });
        const path = `/api/runs/${run.runId}/approvals/${encodeURIComponent(approval.approvalId)}`;
        expect(
          (await own.call(path, { method: 'POST', json: { decision: 'deny', reason: 'not this one' } }))
            .status,
        ).toBe(202);
        const twice = await own.call(path, { method: 'POST', json: { decision: 'approve' } });
        expect((await body(twice)).error.code).toBe('APPROVAL_ALREADY_DECIDED');
        const done = await until(async () => {
          const current = (await body(await own.call(`/api/runs/${run.runId}`))).run;
          return current.status === 'completed' ? current : undefined;
        }, 'the run to complete');
        expect(done.result).toContain('not this one');
        expect(
          (await body(await own.call(`/api/approvals?status=all&runId=${run.runId}`))).approvals,
        ).toMatchObject([{ status: 'denied', decidedBy: 'user:alice', comment: 'not this one' }]);
        expect(
          (
            await own.call(`/api/runs/${run.runId}/approvals/baton.approve:999`, {
              method: 'POST',
              json: { decision: 'approve' },
            })
          ).status,
        ).toBe(404);
      } finally {
        await own.close();
      }
    });
  });

  describe('event streams', () => {
    it("streams a run's events as they are written, then ends when it finishes", async () => {
      const { run } = await body(await start({ name: 'Sse' }));
      const response = await server.call(`/api/runs/${run.runId}/stream`);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      let signalled = false;
      const events = await readFrames(response, (received) => {
        const seen = received.filter((item) => item.event === 'event').map((item) => item.data.type);
        if (!signalled && seen.includes('signal.awaited')) {
          signalled = true;
          void server.call(`/api/runs/${run.runId}/signals`, {
            method: 'POST',
            json: { name: 'go', payload: { reply: 'streamed' } },
          });
        }
        return received.some((item) => item.event === 'end');
      });
      const journal = events.filter((item) => item.event === 'event');
      expect(journal.map((item) => item.data.type)).toEqual([
        'run.started',
        'step.completed',
        'signal.awaited',
        'signal.received',
        'run.completed',
      ]);
      expect(journal.map((item) => Number(item.id))).toEqual([1, 2, 3, 4, 5]);
      expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'completed', lastSeq: 5 } });
      await until(
        async () => (server.api.stats().streams === 0 ? true : undefined),
        'the stream to be released',
      );
    });

    it('resumes after Last-Event-ID', async () => {
      const { run } = await body(await start({ name: 'Resume' }));
      await until(
        async () =>
          (await body(await server.call(`/api/runs/${run.runId}`))).run.lastSeq >= 3 ? true : undefined,
        'three events',
      );
      const response = await server.call(`/api/runs/${run.runId}/stream`, {
        headers: { 'last-event-id': '2' },
      });
      const events = await readFrames(response, (received) => received.some((item) => item.event === 'run'));
      expect(events.filter((item) => item.event === 'event').map((item) => item.data.seq)).toEqual([3]);
    });

    it('lets Last-Event-ID win over the ?after the stream was first opened with', async () => {
      const { run } = await body(await start({ name: 'Reconnect' }));
      await until(
        async () =>
          (await body(await server.call(`/api/runs/${run.runId}`))).run.lastSeq >= 3 ? true : undefined,
        'three events',
      );
      const response = await server.call(`/api/runs/${run.runId}/stream?after=0`, {
        headers: { 'last-event-id': '2' },
      });
      const events = await readFrames(response, (received) => received.some((item) => item.event === 'run'));
      expect(events.filter((item) => item.event === 'event').map((item) => item.data.seq)).toEqual([3]);
    });

    it('releases everything when the client goes away: no stream, no subscriber, no poller timer left', async () => {
      const { run } = await body(await start({ name: 'Leaver' }));
      const baseline = server.api.stats();
      expect(baseline).toEqual({ streams: 0, watchedRuns: 0, subscribers: 0 });
      const controllers: AbortController[] = [];
      for (let index = 0; index < 3; index++) {
        const controller = new AbortController();
        controllers.push(controller);
        const response = await server.call(`/api/runs/${run.runId}/stream`, { signal: controller.signal });
        const reader = response.body!.getReader();
        await reader.read(); // the stream is open and subscribed
      }
      const list = new AbortController();
      controllers.push(list);
      await (await server.call('/api/runs/stream', { signal: list.signal })).body!.getReader().read();
      await until(async () => (server.api.stats().subscribers === 3 ? true : undefined), 'three subscribers');
      expect(server.api.stats()).toEqual({ streams: 4, watchedRuns: 1, subscribers: 3 });

      for (const controller of controllers) controller.abort();
      const released = await until(async () => {
        const stats = server.api.stats();
        return stats.streams === 0 && stats.watchedRuns === 0 && stats.subscribers === 0 ? stats : undefined;
      }, 'the streams to be released');
      expect(released).toEqual({ streams: 0, watchedRuns: 0, subscribers: 0 });
    });

    it('streams the runs list, live', async () => {
      const response = await server.call('/api/runs/stream?workflow=waiter&limit=5');
      let started: string | undefined;
      const events = await readFrames(response, (received) => {
        const pages = received.filter((item) => item.event === 'runs');
        if (pages.length === 1 && started === undefined) {
          started = 'pending';
          void start({ name: 'Listed' }).then(async (created) => (started = (await body(created)).run.runId));
        }
        return pages.some((page) => page.data.runs.some((candidate: Json) => candidate.runId === started));
      });
      expect(events.filter((item) => item.event === 'runs').length).toBeGreaterThanOrEqual(2);
    });
  });

  describe('runs list stream', () => {
    it('sends the first page even when the filter matches nothing, so a client stops loading', async () => {
      const response = await server.call('/api/runs/stream?workflow=no-such-workflow&limit=5');
      const events = await readFrames(response, (received) => received.some((item) => item.event === 'runs'));
      expect(events.find((item) => item.event === 'runs')!.data).toEqual({ runs: [] });
    });
  });

  describe('description', () => {
    it('describes every route of the app in /api/openapi.json, without a token', async () => {
      const response = await server.call('/api/openapi.json', { as: null });
      expect(response.status).toBe(200);
      const document = await body(response);
      expect(document.openapi).toBe('3.1.0');
      const described = new Set(
        API_OPERATIONS.map((operation) => `${operation.method.toUpperCase()} ${operation.path}`),
      );
      const routes = new Set(
        server.api.app.routes
          .filter(
            (route) => route.path.startsWith('/api/') && route.path !== '/api/*' && route.method !== 'ALL',
          )
          .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
      );
      expect([...routes].sort()).toEqual([...described].sort());
      expect(
        document.paths['/api/runs'].post.requestBody.content['application/json'].schema.required,
      ).toEqual(['workflow']);
      expect(document.paths['/api/runs/{runId}/stream'].get.responses['200'].content).toHaveProperty(
        'text/event-stream',
      );
    });

    it('gives the address of a run in the UI', () => {
      expect(runUrl('http://127.0.0.1:8080/', 'run_01abc')).toBe('http://127.0.0.1:8080/runs/run_01abc');
    });
  });
});

describe('the HTTP API with Cedar policies', () => {
  let server: TestServer;
  beforeAll(async () => {
    const policies = PolicyEngine.fromSources([
      {
        name: 'api.cedar',
        text: `
@id("alice-runs-support")
permit (principal == User::"alice", action in [Action::"StartRun", Action::"ReadRun", Action::"SignalRun", Action::"CancelRun"], resource);

@id("read-own-runs")
permit (principal, action == Action::"ReadRun", resource is Run) when { resource.principal == context.actor };

@id("bob-reads-support")
permit (principal == User::"bob", action == Action::"ReadRun", resource is Run) when { resource.workflow == "support" };

@id("bob-approves-refunds")
permit (principal == User::"bob", action == Action::"Approve", resource is Run) when { context.approval == "payments.refund" };
`,
      },
    ]);
    server = await startTestServer({ workflows: [waiter, supportWorkflow()], policies });
  });
  afterAll(async () => {
    await server.close();
  });

  it('authorizes every action by policy: 403 FORBIDDEN naming the reason, and lists only what the caller may read', async () => {
    const refused = await server.call('/api/runs', {
      method: 'POST',
      as: 'bob',
      json: { workflow: 'waiter', input: { name: 'x' } },
    });
    expect(refused.status).toBe(403);
    expect((await body(refused)).error).toMatchObject({
      code: 'FORBIDDEN',
      details: { action: 'StartRun', reason: 'default deny' },
    });

    const { run } = await body(
      await server.call('/api/runs', { method: 'POST', json: { workflow: 'waiter', input: { name: 'x' } } }),
    );
    const read = await server.call(`/api/runs/${run.runId}`, { as: 'bob' });
    expect(read.status).toBe(403);
    expect((await body(read)).error.details).toMatchObject({
      action: 'ReadRun',
      resource: `run:${run.runId}`,
    });
    expect(
      (await server.call(`/api/runs/${run.runId}/cancel`, { method: 'POST', as: 'bob', json: {} })).status,
    ).toBe(403);
    expect((await body(await server.call('/api/runs', { as: 'bob' }))).runs).toEqual([]);
    expect(
      (await body(await server.call('/api/runs'))).runs.map((candidate: Json) => candidate.runId),
    ).toContain(run.runId);
    expect((await body(await server.call('/api/me'))).policies).toBe(true);
  });

  it('lets only an allowed approver decide an approval', async () => {
    const { run } = await body(
      await server.call('/api/runs', {
        method: 'POST',
        json: { workflow: 'support', input: { ticket: 'T-9' } },
      }),
    );
    const approval = await until(
      async () => (await body(await server.call('/api/approvals'))).approvals[0],
      'the approval',
    );
    const path = `/api/runs/${run.runId}/approvals/${encodeURIComponent(approval.approvalId)}`;
    const byAlice = await server.call(path, { method: 'POST', json: { decision: 'approve' } });
    expect(byAlice.status).toBe(403);
    expect((await body(byAlice)).error).toMatchObject({
      code: 'FORBIDDEN',
      details: { action: 'Approve', reason: 'default deny' },
    });
    expect(
      (await server.call(path, { method: 'POST', as: 'bob', json: { decision: 'approve' } })).status,
    ).toBe(202);
    await until(
      async () =>
        (await body(await server.call(`/api/runs/${run.runId}`))).run.status === 'completed'
          ? true
          : undefined,
      'the run to complete',
    );
  });
});

describe('a server shutting down', () => {
  it('answers 503 SHUTTING_DOWN with Connection: close on a socket a client kept alive', async () => {
    const server = await startTestServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        const outgoing = request(
          `${server.url}${path}`,
          { agent, headers: { authorization: `Bearer ${TOKENS.alice}` } },
          (incoming) => {
            let text = '';
            incoming.setEncoding('utf8');
            incoming.on('data', (chunk: string) => (text += chunk));
            incoming.on('end', () =>
              resolve({
                status: incoming.statusCode ?? 0,
                connection: incoming.headers.connection,
                body: text,
              }),
            );
          },
        );
        outgoing.on('error', reject);
        outgoing.end();
      });
    try {
      const before = await get('/api/me');
      expect(before.status).toBe(200);
      expect(before.connection).toBe('keep-alive');
      server.api.close(); // the app shuts down while the browser's socket is still open
      const answer = await get('/api/me');
      expect(answer.status).toBe(503);
      expect(answer.connection).toBe('close');
      expect(JSON.parse(answer.body).error.code).toBe('SHUTTING_DOWN');
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});
