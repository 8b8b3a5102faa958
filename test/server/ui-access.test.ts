import { afterAll, beforeAll, expect, it } from 'vitest';
import { PolicyEngine } from '../../src/access/policy-engine.ts';
import { workflow } from '../../src/context-layers.ts';
import { actingFor, authorizeDurably, chainOf, createGrant } from '../../src/access/index.ts';
import { uiAssets } from '../../src/server/node.ts';
import { describeBrowser } from '../support/browser.ts';
import { ensureUiBuilt } from '../support/ui-build.ts';
import { openUiSession, type UiSession } from '../support/ui-session.ts';
import { until } from '../support/harness.ts';
import { waiter } from '../support/sample-workflows.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

type Json = Record<string, any>;

const POLICY =
  '@id("mail-inside")\npermit (principal is Agent, action == Action::"InvokeTool", resource == Tool::"email.send")\n' +
  'when { resource.hasTag("to") && resource.getTag("to") like "*@acme.com" };';
const policies = PolicyEngine.fromSources([{ name: 'mail.cedar', text: POLICY }]);

/** Authorizes one e-mail by the policy above (inside the company only), durably, as agent:mailer. */
const mail = workflow('mail', async (ctx, input: { to: string }) => {
  const grant = createGrant({ tenant: ctx.tenant, holder: ctx.principal, actions: ['tool:email.*'] });
  const decision = await authorizeDurably(ctx, policies, {
    chain: actingFor(chainOf(ctx), 'agent:mailer'),
    action: 'InvokeTool',
    resource: { kind: 'tool', name: 'email.send', args: { to: input.to } },
    grant,
  });
  return decision.decision;
});

let server: TestServer;
let ui: UiSession;

async function call(path: string, init: Parameters<TestServer['call']>[1] = {}) {
  return (await (await server.call(path, init)).json()) as Json;
}

async function finishedRun(workflowName: string, input: unknown, status = 'completed'): Promise<string> {
  const runId = (await call('/api/runs', { method: 'POST', json: { workflow: workflowName, input } })).run
    .runId as string;
  await until(
    async () => ((await call(`/api/runs/${runId}`)).run.status === status ? true : undefined),
    `the ${workflowName} run to be ${status}`,
  );
  return runId;
}

describeBrowser('the web UI: access, audit and signals', (chromiumPath) => {
  beforeAll(async () => {
    const dist = await ensureUiBuilt();
    server = await startTestServer({
      workflows: [mail, waiter],
      assets: uiAssets(dist),
      runPolicies: policies,
    });
    ui = await openUiSession(chromiumPath, 'ui-access');
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    await server?.close();
  });

  it('serves the Cedar text of a policy a decision names', async () => {
    const { policies: found } = await call('/api/policies/mail-inside');
    expect(found).toEqual([
      expect.objectContaining({ id: 'mail-inside', effect: 'permit', file: 'mail.cedar', scope: 'runs' }),
    ]);
    expect(found[0].text).toContain('resource.getTag("to") like "*@acme.com"');
    const missing = await server.call('/api/policies/nope');
    expect(missing.status).toBe(404);
  });

  it('lists who did what under which grant on the Audit page, with the policy text behind each decision', async () => {
    const allowed = await finishedRun('mail', { to: 'bob@acme.com' });
    const denied = await finishedRun('mail', { to: 'eve@evil.example' });
    const page = await ui.open(server, '/audit');
    const table = page.getByTestId('audit-table');
    await table.waitFor();
    const allowRow = table.locator(`tr:has(a[href^="/runs/${allowed}"])`);
    const denyRow = table.locator(`tr:has(a[href^="/runs/${denied}"])`);
    expect(await allowRow.getAttribute('data-decision')).toBe('allow');
    expect(await denyRow.getAttribute('data-decision')).toBe('deny');
    expect(await allowRow.textContent()).toContain('agent:mailer for workflow:mail for user:alice');
    expect(await allowRow.textContent()).toContain('tool:email.send');
    await ui.expectAccessible(page, 'audit page');

    await allowRow.getByTestId('policy-toggle').click();
    await allowRow.getByTestId('policy-text').locator('pre').waitFor();
    expect(await allowRow.getByTestId('policy-text').locator('pre').innerText()).toBe(POLICY);
    await ui.screenshot(page, 'audit-with-policy');
    await ui.expectAccessible(page, 'audit page, a policy open');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
    await ui.screenshot(page, 'audit-390');
    await page.setViewportSize({ width: 1400, height: 900 });

    await page.getByLabel('Decision').selectOption('deny');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/decision=deny/);
    await table.locator('tr[data-decision=allow]').first().waitFor({ state: 'detached' });
    // The filtered list is drawn (not the moment between the old rows going and the new ones coming).
    await table.locator('tr[data-decision=deny]').first().waitFor();
    expect(await table.locator('tbody tr').count()).toBe(
      await table.locator('tbody tr[data-decision=deny]').count(),
    );

    // The run's inspector shows the same decision with its policy.
    await page.goto(`${server.url}/runs/${allowed}`);
    await page.getByTestId('execution-tree').waitFor();
    const events = (await call(`/api/runs/${allowed}/journal`)).events as Json[];
    const decided = events.find((event) =>
      ['access.decided', 'tool.authorized'].includes(event.type as string),
    )!;
    await page.goto(`${server.url}/runs/${allowed}?step=${decided.seq}`);
    const inspector = page.getByTestId('inspector');
    await inspector.getByTestId('policy-toggle').click();
    expect(await inspector.getByTestId('policy-text').locator('pre').innerText()).toBe(POLICY);
    await ui.expectAccessible(page, 'inspector, a policy open');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it("shows a received signal's payload and who sent it", async () => {
    const runId = await finishedRun('waiter', { name: 'Ada' }, 'waiting');
    await server.call(`/api/runs/${runId}/signals`, {
      method: 'POST',
      as: 'bob',
      json: { name: 'go', payload: { reply: 'ship it\nnow' } },
    });
    await until(
      async () => ((await call(`/api/runs/${runId}`)).run.status === 'completed' ? true : undefined),
      'the run to finish',
    );
    const events = (await call(`/api/runs/${runId}/journal`)).events as Json[];
    const received = events.find((event) => event.type === 'signal.received')!;
    const page = await ui.open(server, `/runs/${runId}?step=${received.seq}`);
    const section = page.getByTestId('signal-received');
    await section.waitFor();
    expect(await section.getByTestId('signal-sender').textContent()).toBe('user:bob');
    expect(JSON.parse((await section.getByTestId('signal-payload').textContent())!)).toEqual({
      reply: 'ship it\nnow',
    });
    await ui.screenshot(page, 'signal-received');
    await ui.expectAccessible(page, 'inspector, a received signal');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });
});
