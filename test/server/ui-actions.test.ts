import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { tool } from '../../src/agents/tool.ts';
import { uiAssets } from '../../src/server/node.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { describeBrowser } from '../support/browser.ts';
import { ensureUiBuilt } from '../support/ui-build.ts';
import { openUiSession, type UiSession } from '../support/ui-session.ts';
import { until } from '../support/harness.ts';
import { waiter } from '../support/sample-workflows.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

type Json = Record<string, any>;

/** A refund form: the start form is built from this schema. */
const refundForm = workflow(
  'refund-form',
  async (ctx, input: { chargeId: string; cents: number; reason?: string }) =>
    ctx.step('refund', () => `${input.chargeId}:${input.cents}:${input.reason ?? 'none'}`),
  {
    description: 'Refunds a charge',
    input: z.object({
      chargeId: z.string().min(3).describe('The charge to refund'),
      cents: z.int().positive(),
      reason: z.enum(['duplicate', 'fraud', 'requested']).optional(),
      notify: z.boolean().optional(),
    }),
  },
);

/** Fails at its step until the test lets it succeed: a run to resume in place. */
let flaky = true;
const flakyWorkflow = workflow('flaky', async (ctx) => {
  await ctx.step('first', () => 'ok');
  return ctx.step(
    'second',
    () => {
      if (flaky) throw new Error('the payments service is down');
      return 'paid';
    },
    { retry: { maxAttempts: 1 } },
  );
});

/** An agent that says why it wants a refund, then asks for it (held for approval). */
const refund = tool({
  name: 'payments.refund',
  description: 'Refunds a charge',
  input: z.object({ chargeId: z.string(), cents: z.number().int().positive() }),
  effect: 'irreversible',
  execute: async (args) => ({ refunded: args.cents }),
});
const explained = workflow('explained-refund', async (ctx) =>
  ctx.runAgent(
    agent({
      name: 'billing',
      description: 'Refunds',
      instructions: 'Resolve billing tickets.',
      model: scriptedModel([
        {
          text: 'The customer was charged twice for order 77.\nRefunding the duplicate charge.',
          toolCalls: [
            { name: 'payments.refund', args: { chargeId: 'ch_77', cents: 4200 }, id: 'call_refund' },
          ],
        },
        'Refunded.',
      ]),
      tools: [refund],
    }),
    'Ticket T-77: charged twice',
  ),
);

let withWorker: TestServer;
let noWorker: TestServer;
let ui: UiSession;

async function call(server: TestServer, path: string, init: Parameters<TestServer['call']>[1] = {}) {
  return (await (await server.call(path, init)).json()) as Json;
}

async function statusOf(server: TestServer, runId: string): Promise<string> {
  return (await call(server, `/api/runs/${runId}`)).run.status as string;
}

describeBrowser('the web UI: workers and actions', (chromiumPath) => {
  beforeAll(async () => {
    const dist = await ensureUiBuilt();
    withWorker = await startTestServer({
      workflows: [waiter, refundForm, flakyWorkflow, explained],
      assets: uiAssets(dist),
    });
    noWorker = await startTestServer({
      workflows: [waiter, refundForm],
      assets: uiAssets(dist),
      worker: false,
    });
    ui = await openUiSession(chromiumPath, 'ui-actions');
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    await withWorker?.close();
    await noWorker?.close();
  });

  it('shows the connected worker on the Workers page, and says so when none is running', async () => {
    await until(
      async () => ((await call(withWorker, '/api/workers')).connected === 1 ? true : undefined),
      'the worker to beat',
    );
    const page = await ui.open(withWorker, '/workers');
    await page.getByTestId('workers-table').waitFor();
    expect(await page.getByTestId('workers-summary').textContent()).toBe('1 worker is connected.');
    const row = page.locator(`tr[data-worker="${withWorker.baton.worker!.id}"]`);
    expect(await row.getAttribute('data-alive')).toBe('true');
    expect(await row.textContent()).toContain(`pid ${process.pid}`);
    expect(await row.textContent()).toContain('refund-form');
    await ui.screenshot(page, 'workers');
    await ui.expectAccessible(page, 'workers page');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
    await ui.screenshot(page, 'workers-390');
    await ui.expectAccessible(page, 'workers page at 390 px');

    const none = await ui.open(noWorker, '/workers');
    await none.getByTestId('workers-summary').waitFor();
    expect(await none.getByTestId('workers-summary').textContent()).toContain('No worker is running');
    await ui.screenshot(none, 'workers-none');
    await ui.expectAccessible(none, 'workers page, no worker');
    expect([...ui.problems(page), ...ui.problems(none)]).toEqual([]);
    await page.close();
    await none.close();
  });

  it("starts a run from a form built from the workflow's input schema, showing the server's sentences", async () => {
    const page = await ui.open(withWorker, '/');
    await page.getByTestId('start-run').click();
    const form = page.getByTestId('start-form');
    await form.getByLabel('Workflow to start').selectOption('refund-form');
    await form.getByLabel(/^chargeId/).waitFor();
    expect(await form.locator('.field-hint').first().textContent()).toBe('The charge to refund');
    expect(
      await form
        .getByLabel(/^reason/)
        .locator('option')
        .allTextContents(),
    ).toEqual(['(none)', 'duplicate', 'fraud', 'requested']);
    await ui.screenshot(page, 'start-form');
    await ui.expectAccessible(page, 'runs page, start form');

    await form.getByLabel(/^chargeId/).fill('ch_42');
    await form.getByLabel(/^cents/).fill('-5');
    await form.getByRole('button', { name: 'Start' }).click();
    await form.getByTestId('start-error').waitFor();
    expect(await form.getByTestId('start-error').textContent()).toContain('cents');

    await form.getByLabel(/^cents/).fill('1250');
    await form.getByLabel(/^reason/).selectOption('duplicate');
    await form.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/\/runs\/run_/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    await page.locator('.page-head [data-status=completed]').waitFor({ timeout: 20_000 });
    expect((await call(withWorker, `/api/runs/${runId}`)).run).toMatchObject({
      principal: 'user:alice',
      input: { chargeId: 'ch_42', cents: 1250, reason: 'duplicate' },
      result: 'ch_42:1250:duplicate',
    });
    expect(ui.problems(page).filter((problem) => !problem.includes('400'))).toEqual([]);
    await page.close();
  });

  it('cancels with a reason as the signed-in person, and says no worker is running to end the run', async () => {
    const started = await call(noWorker, '/api/runs', {
      method: 'POST',
      json: { workflow: 'waiter', input: { name: 'x' } },
    });
    const runId = started.run.runId as string;
    const page = await ui.open(noWorker, `/runs/${runId}`);
    await page.getByTestId('run-no-worker').waitFor();
    expect(await page.getByTestId('run-no-worker').textContent()).toContain(
      'this run goes on when one starts',
    );
    await ui.expectAccessible(page, 'run page, no worker');

    await page.getByRole('button', { name: 'Cancel run…' }).click();
    const form = page.getByTestId('cancel-form');
    await form.getByLabel('Why cancel?').fill('Opened by mistake');
    await ui.expectAccessible(page, 'run page, cancel form');
    await form.getByRole('button', { name: 'Cancel run as user:alice' }).click();
    await page.getByTestId('no-worker').waitFor();
    expect(await page.getByTestId('no-worker').textContent()).toContain(
      'No worker is running: the run is cancelled when one starts',
    );
    expect(await page.getByTestId('action-message').textContent()).toBe(
      'Cancellation requested by user:alice.',
    );
    await page.getByTestId('cancelled-by').waitFor();
    expect(await page.getByTestId('cancelled-by').textContent()).toBe('by user:alice: “Opened by mistake”');
    await page.getByText('the cancellation takes effect when one starts').waitFor();
    await ui.screenshot(page, 'cancel-no-worker');
    await ui.expectAccessible(page, 'run page, cancelled with no worker');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('resumes a failed run in place, and it completes', async () => {
    flaky = true;
    const started = await call(withWorker, '/api/runs', { method: 'POST', json: { workflow: 'flaky' } });
    const runId = started.run.runId as string;
    await until(
      async () => ((await statusOf(withWorker, runId)) === 'failed' ? true : undefined),
      'the run to fail',
    );
    const page = await ui.open(withWorker, `/runs/${runId}`);
    await page.getByTestId('resume-run').waitFor();
    await ui.expectAccessible(page, 'failed run with resume');
    flaky = false;
    await page.getByTestId('resume-run').click();
    await page.locator('.page-head [data-status=completed]').waitFor({ timeout: 20_000 });
    expect((await call(withWorker, `/api/runs/${runId}`)).run.result).toBe('paid');
    await ui.screenshot(page, 'resumed-in-place');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('forks a run from the event chosen in the inspector, and opens the fork', async () => {
    const started = await call(withWorker, '/api/runs', {
      method: 'POST',
      json: { workflow: 'waiter', input: { name: 'Ada' } },
    });
    const runId = started.run.runId as string;
    await until(
      async () => ((await statusOf(withWorker, runId)) === 'waiting' ? true : undefined),
      'the run to park',
    );
    const events = (await call(withWorker, `/api/runs/${runId}/journal`)).events as Json[];
    const greeted = events.find((event) => event.type === 'step.completed')!;
    const page = await ui.open(withWorker, `/runs/${runId}?step=${greeted.seq}`);
    await page.getByTestId('fork-here').waitFor();
    await ui.expectAccessible(page, 'inspector with fork from here');
    await page.getByTestId('fork-here').click();
    await page.waitForURL((url) => !url.pathname.endsWith(runId) && url.pathname.startsWith('/runs/'));
    await page.getByTestId('forked-from').waitFor();
    expect(await page.getByTestId('forked-from').textContent()).toBe(`${runId} at seq ${greeted.seq}`);
    await ui.screenshot(page, 'forked-from-here');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('shows why the agent wants an approval: its words and the call’s arguments', async () => {
    const started = await call(withWorker, '/api/runs', {
      method: 'POST',
      json: { workflow: 'explained-refund' },
    });
    const runId = started.run.runId as string;
    await until(
      async () => ((await statusOf(withWorker, runId)) === 'waiting' ? true : undefined),
      'the run to park',
    );
    const page = await ui.open(withWorker, '/approvals', 'bob');
    const card = page.locator(`[data-testid=approval][data-run="${runId}"]`);
    await card.getByTestId('approval-context').waitFor();
    expect(await card.getByTestId('approval-context').textContent()).toContain(
      'Asked for by agent:billing in turn 1 (call call_refund)',
    );
    // Real newlines, as the agent wrote them.
    expect(await card.getByTestId('approval-reason').innerText()).toBe(
      'The customer was charged twice for order 77.\nRefunding the duplicate charge.',
    );
    expect(JSON.parse(await card.getByLabel('Arguments').inputValue())).toEqual({
      chargeId: 'ch_77',
      cents: 4200,
    });
    await ui.screenshot(page, 'approval-with-context');
    await ui.expectAccessible(page, 'approvals with context');
    await card.getByRole('button', { name: 'Approve' }).click();
    await until(
      async () => ((await statusOf(withWorker, runId)) === 'completed' ? true : undefined),
      'the run to finish',
    );
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('shows spend per workflow and per day on the Costs page', async () => {
    await until(
      async () =>
        ((await call(withWorker, '/api/costs')).byWorkflow as Json[] | undefined)?.some(
          (line) => line.workflow === 'explained-refund',
        )
          ? true
          : undefined,
      'the refund run to be costed',
    );
    const page = await ui.open(withWorker, '/costs');
    const costs = page.getByTestId('costs');
    await costs.waitFor();
    const byWorkflow = costs.locator('table', { has: page.locator('caption', { hasText: 'By workflow' }) });
    expect(await byWorkflow.locator('tbody tr', { hasText: 'explained-refund' }).count()).toBe(1);
    const today = new Date().toISOString().slice(0, 10);
    await costs.getByTestId('spend-over-time').locator(`li[data-day="${today}"]`).waitFor();
    expect(
      await costs.getByTestId('spend-over-time').locator(`li[data-day="${today}"]`).textContent(),
    ).toContain('unpriced');
    await ui.screenshot(page, 'costs-by-workflow-and-day');
    await ui.expectAccessible(page, 'costs by workflow and over time');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('says what each waiting run waits on in the runs list', async () => {
    const started = await call(withWorker, '/api/runs', {
      method: 'POST',
      json: { workflow: 'waiter', input: { name: 'Wes' } },
    });
    const runId = started.run.runId as string;
    await until(
      async () => ((await statusOf(withWorker, runId)) === 'waiting' ? true : undefined),
      'the run to park',
    );
    const listed = (await call(withWorker, '/api/runs?status=waiting')).runs as Json[];
    expect(listed.find((run) => run.runId === runId)?.waitingOn).toEqual([{ kind: 'signal', name: 'go' }]);
    const page = await ui.open(withWorker, '/?status=waiting');
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.getByTestId('waiting-on').filter({ hasText: 'signal go' }).waitFor();
    await ui.expectAccessible(page, 'runs list with waiting on');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('pauses a waiting run and resumes it', async () => {
    const started = await call(withWorker, '/api/runs', {
      method: 'POST',
      json: { workflow: 'waiter', input: { name: 'Pia' } },
    });
    const runId = started.run.runId as string;
    await until(
      async () => ((await statusOf(withWorker, runId)) === 'waiting' ? true : undefined),
      'the run to park',
    );
    const page = await ui.open(withWorker, `/runs/${runId}`);
    await page.getByTestId('pause-run').click();
    await page.getByTestId('resume-run').waitFor();
    expect((await call(withWorker, `/api/runs/${runId}`)).run.paused).toBe(true);
    await ui.expectAccessible(page, 'paused run');
    await page.getByTestId('resume-run').click();
    await page.getByTestId('pause-run').waitFor();
    expect((await call(withWorker, `/api/runs/${runId}`)).run.paused).toBeUndefined();
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });
});
