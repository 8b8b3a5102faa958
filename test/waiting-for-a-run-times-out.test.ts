import { describe, expect, it } from 'vitest';
import { RunWaitTimeoutError } from '../src/errors.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';

const { start } = harnessesClosedAfterEach();

describe('baton.waitFor with a timeout', () => {
  it('rejects with RunWaitTimeoutError when the run has not finished, and the run goes on', async () => {
    const waits = defineWorkflow('waits-for-a-signal', async (ctx) => ctx.waitFor<string>('go'));
    const h = await start({ workflows: [waits] });
    const run = await h.baton.start(waits, null);
    await h.settle(run.runId, 'waiting');

    const error = await h.baton.waitFor(run.runId, { timeout: '50ms' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(RunWaitTimeoutError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'RUN_WAIT_TIMEOUT',
      disposition: 'retryable',
      runId: run.runId,
      status: 'waiting',
    });
    await expect(run.result({ timeout: '50ms' })).rejects.toMatchObject({ code: 'RUN_WAIT_TIMEOUT' });

    await h.baton.signal(run.runId, 'go', 'now');
    expect(await h.baton.waitFor(run.runId, { timeout: '30s' })).toMatchObject({
      status: 'completed',
      result: 'now',
    });
  });
});
