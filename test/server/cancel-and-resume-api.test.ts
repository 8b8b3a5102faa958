import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_OPERATIONS } from '../../src/server/openapi.ts';
import { until } from '../support/harness.ts';
import { waiter } from '../support/sample-workflows.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

type Json = Record<string, any>;
const body = async (response: Response): Promise<Json> => (await response.json()) as Json;

describe('cancel and resume over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [waiter] });
  });
  afterAll(async () => {
    await server.close();
  });

  const statusOf = async (runId: string, status: string): Promise<Json> =>
    until(async () => {
      const current = (await body(await server.call(`/api/runs/${runId}`))).run;
      return current.status === status ? current : undefined;
    }, `the run to be ${status}`);

  it('cancels with who and why (and the children mode), then resumes in place with who and why', async () => {
    const { run } = await body(
      await server.call('/api/runs', {
        method: 'POST',
        json: { workflow: 'waiter', input: { name: 'Ada' } },
      }),
    );
    await statusOf(run.runId, 'waiting');
    const cancelled = await server.call(`/api/runs/${run.runId}/cancel`, {
      method: 'POST',
      json: { reason: 'wrong customer', children: 'abandon' },
    });
    expect(cancelled.status).toBe(202);
    const ended = await statusOf(run.runId, 'cancelled');
    expect(ended.metadata).toMatchObject({ cancelReason: 'wrong customer', cancelChildren: 'abandon' });
    expect(ended.metadata.cancelledBy).toMatch(/^user:/);

    const resumed = await server.call(`/api/runs/${run.runId}/resume`, {
      method: 'POST',
      json: { reason: 'it was the right customer', timeout: '2h' },
    });
    expect(resumed.status).toBe(202);
    expect((await body(resumed)).run).toMatchObject({
      runId: run.runId,
      status: 'pending',
      cancelRequested: false,
    });
    await statusOf(run.runId, 'waiting');
    const journal = await body(await server.call(`/api/runs/${run.runId}/journal`));
    const types = (journal.events as Json[]).map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['run.cancelRequested', 'run.cancelled', 'run.resumed']));
    const marker = (journal.events as Json[]).find((event) => event.type === 'run.resumed')!;
    expect(marker.payload).toMatchObject({
      reason: 'it was the right customer',
      from: 'cancelled',
      timeoutMs: 7_200_000,
    });
    expect(marker.payload.by).toBe(ended.metadata.cancelledBy);
  });

  it('refuses to resume a running run (409) and an unknown children mode (400)', async () => {
    const { run } = await body(
      await server.call('/api/runs', { method: 'POST', json: { workflow: 'waiter', input: { name: 'Bo' } } }),
    );
    await statusOf(run.runId, 'waiting');
    const refused = await server.call(`/api/runs/${run.runId}/resume`, { method: 'POST', json: {} });
    expect(refused.status).toBe(409);
    expect((await body(refused)).error.code).toBe('RUN_NOT_RESUMABLE');
    const bad = await server.call(`/api/runs/${run.runId}/cancel`, {
      method: 'POST',
      json: { children: 'orphan' },
    });
    expect(bad.status).toBe(400);
    expect(API_OPERATIONS.map((operation) => operation.operationId)).toContain('resumeRun');
  });
});
