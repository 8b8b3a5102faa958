import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/harness.ts';
import { waiter } from '../support/sample-workflows.ts';
import { type Frame, readFrames, startTestServer, type TestServer, TOKENS } from '../support/test-server.ts';

const json = async (response: Response): Promise<any> => response.json();

describe('the live stream door (SSE)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [waiter], stallMs: 300 });
  });
  afterAll(async () => server.close());

  async function startWaiter(name: string): Promise<string> {
    const response = await server.call('/api/runs', {
      method: 'POST',
      json: { workflow: 'waiter', input: { name } },
    });
    return (await json(response)).run.runId as string;
  }
  async function finish(runId: string): Promise<void> {
    await until(
      async () => ((await server.baton.getRun(runId)).status === 'waiting' ? true : undefined),
      'the run to wait for its signal',
    );
    await server.call(`/api/runs/${runId}/signals`, {
      method: 'POST',
      json: { name: 'go', payload: { reply: 'ok' } },
    });
  }

  it('streams a run live and resumes after Last-Event-ID: nothing missed, nothing twice', async () => {
    const runId = await startWaiter('Live');
    const first = await readFrames(await server.call(`/api/runs/${runId}/live`), (frames) =>
      frames.some((frame) => frame.data?.type === 'waiting'),
    );
    expect(first.map((frame) => frame.data.event?.type).filter(Boolean)).toEqual([
      'run.started',
      'step.completed',
      'signal.awaited',
    ]);
    const resumeFrom = first.filter((frame) => frame.id).at(-1)!.id!;
    await finish(runId);
    const rest = await readFrames(
      await server.call(`/api/runs/${runId}/live`, { headers: { 'last-event-id': resumeFrom } }),
    );
    expect(rest.at(-1)!.data).toMatchObject({ type: 'end', status: 'completed' });
    const whole = await readFrames(await server.call(`/api/runs/${runId}/live`));
    const withoutWaiting = (frames: Frame[]) => frames.filter((frame) => frame.data.type !== 'waiting');
    expect(withoutWaiting([...first, ...rest])).toEqual(withoutWaiting(whole));
  });

  it('opens for an EventSource with a stream token of that run, and for nothing else', async () => {
    const runId = await startWaiter('Token');
    const other = await startWaiter('Other');
    const issued = await json(await server.call(`/api/runs/${runId}/stream-token`, { method: 'POST' }));
    expect(issued.url).toBe(`/api/runs/${runId}/live?token=${encodeURIComponent(issued.token)}`);
    const opened = await server.call(issued.url, { as: null });
    expect(opened.status).toBe(200);
    const frames = await readFrames(opened, (received) => received.length > 0);
    expect(frames[0]!.data.event.type).toBe('run.started');

    const otherRun = await server.call(`/api/runs/${other}/live?token=${encodeURIComponent(issued.token)}`, {
      as: null,
    });
    expect(otherRun.status).toBe(403);
    expect((await json(otherRun)).error.message).toContain('another run');
    const [body, signature] = issued.token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...claims, tenant: 'globex' })).toString('base64url')}.${signature}`;
    const altered = await server.call(`/api/runs/${runId}/live?token=${encodeURIComponent(forged)}`, {
      as: null,
    });
    expect(altered.status).toBe(401);
    // The token opens the live stream only: not the run, not another token.
    expect(
      (await server.call(`/api/runs/${runId}?token=${encodeURIComponent(issued.token)}`, { as: null }))
        .status,
    ).toBe(401);
    // Another tenant cannot have a token for this run made.
    const mallory = await server.call(`/api/runs/${runId}/stream-token`, { method: 'POST', as: 'mallory' });
    expect(mallory.status).toBe(404);
    await finish(runId);
    await finish(other);
  });

  it('answers a cursor of another run, from the future or malformed with 400, before streaming', async () => {
    const one = await startWaiter('One');
    const two = await startWaiter('Two');
    const frames = await readFrames(
      await server.call(`/api/runs/${one}/live`),
      (received) => received.length >= 2,
    );
    const cursor = frames[1]!.id!;
    for (const [runId, after, reason] of [
      [two, cursor, 'another run'],
      [one, cursor.replace(/^\d+/, '999'), 'ahead'],
      [one, 'not-a-cursor', 'not a stream cursor'],
    ] as const) {
      const response = await server.call(`/api/runs/${runId}/live`, { headers: { 'last-event-id': after } });
      expect(response.status).toBe(400);
      const error = (await json(response)).error;
      expect(error.code).toBe('STREAM_CURSOR_INVALID');
      expect(error.message).toContain(reason);
    }
    await finish(one);
    await finish(two);
  });

  it('lets go of everything when clients go away, mid-frame or never reading', async () => {
    const runId = await startWaiter('Leaver');
    await until(
      async () => ((await server.baton.getRun(runId)).status === 'waiting' ? true : undefined),
      'the run to park',
    );
    const controllers: AbortController[] = [];
    for (let index = 0; index < 3; index++) {
      const controller = new AbortController();
      controllers.push(controller);
      const response = await server.call(`/api/runs/${runId}/live`, { signal: controller.signal });
      await response.body!.getReader().read();
    }
    // A client that never reads (its body is never pulled, as behind a full socket): the stream
    // holds one frame until stallMs, then is closed.
    const neverRead = await server.api.fetch(
      new Request(`${server.url}/api/runs/${runId}/live`, {
        headers: { authorization: `Bearer ${TOKENS.alice}` },
      }),
    );
    expect(neverRead.status).toBe(200);
    expect(server.api.stats().streams).toBe(4);
    for (const controller of controllers) controller.abort();
    const released = await until(async () => {
      const stats = { ...server.api.stats(), ...server.baton.streams.stats() };
      return stats.streams === 0 && stats.readers === 0 && stats.waiting === 0 ? stats : undefined;
    }, 'the live streams to be released');
    expect(released).toMatchObject({ streams: 0, readers: 0, waiting: 0 });
    await finish(runId);
  });
});
