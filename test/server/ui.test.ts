import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uiAssets } from '../../src/server/node.ts';
import { runUrl } from '../../src/server/run-url.ts';
import { ensureUiBuilt } from '../support/ui-build.ts';
import {
  diamond,
  eventually,
  startTestServer,
  supportWorkflow,
  TOKENS,
  waiter,
  type TestServer,
} from './server-harness.ts';

const SCREENSHOTS = join(process.cwd(), 'test-results', 'ui');
const CHROMIUM = process.env.BATON_CHROMIUM ?? '/usr/bin/chromium';

let server: TestServer;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  const dist = await ensureUiBuilt();
  await mkdir(SCREENSHOTS, { recursive: true });
  server = await startTestServer({
    workflows: [waiter, diamond, supportWorkflow('support'), supportWorkflow('support-inbox')],
    assets: uiAssets(dist),
  });
  profile = await mkdtemp(join(tmpdir(), 'baton-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport: { width: 1400, height: 900 },
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function startRun(workflow: string, input: unknown): Promise<string> {
  const response = await server.call('/api/runs', { method: 'POST', json: { workflow, input } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { run: { runId: string } }).run.runId;
}

async function runStatus(runId: string): Promise<string> {
  return ((await (await server.call(`/api/runs/${runId}`)).json()) as { run: { status: string } }).run.status;
}

/** A page signed in (as alice unless told), the token in the address's fragment as `baton server` prints it. */
async function openAs(path: string, who: keyof typeof TOKENS = 'alice'): Promise<Page> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(`${server.url}${path}#token=${TOKENS[who]}`);
  return page;
}

const problemsOf = (page: Page): string[] => (page as Page & { problems?: string[] }).problems ?? [];

describe('the web UI', () => {
  it('opens a run: timeline, execution tree, and a tool call’s arguments in the inspector', async () => {
    const runId = await startRun('support', { ticket: 'T-100' });
    await eventually(
      async () => ((await runStatus(runId)) === 'waiting' ? true : undefined),
      'the run to park for approval',
    );

    const page = await openAs(new URL(runUrl(server.url, runId)).pathname);
    await page.getByTestId('execution-tree').waitFor();
    expect(await page.getByTestId('run-id').textContent()).toBe(runId);
    expect(await page.locator('[data-testid=caller]').textContent()).toContain('user:alice');
    // The fragment with the token is gone from the address once read.
    expect(page.url()).toBe(runUrl(server.url, runId));

    // The tree: the agent, its turns, the model calls and the tool calls each turn asked for.
    const tree = page.getByTestId('execution-tree');
    await tree.locator('[data-kind=agent]', { hasText: 'agent billing' }).waitFor();
    expect(await tree.locator('[data-kind=turn]').count()).toBe(2);
    expect(await tree.locator('[data-kind=tool]').count()).toBe(3);
    await tree.locator('[data-kind=approval][data-status=waiting]').waitFor();
    // Alice started the run: the guard's default rule leaves the decision to someone else.
    await page.getByTestId('cannot-decide').waitFor();

    // The timeline stacks the two lookups that ran at once in separate lanes.
    const lookups = page.getByTestId('timeline').locator('.bar-tool', { hasText: 'tool docs.lookup' });
    expect(await lookups.count()).toBe(2);
    const tops = await lookups.evaluateAll((bars) => bars.map((bar) => (bar as HTMLElement).style.top));
    expect(new Set(tops).size).toBe(2);

    // Click the refund tool call: its arguments, effect and approval verdict show in the inspector.
    await tree.locator('[data-kind=tool]', { hasText: 'tool payments.refund' }).click();
    const inspector = page.getByTestId('inspector');
    const args = inspector.getByTestId('tool-arguments');
    await args.waitFor();
    expect(JSON.parse((await args.textContent())!)).toEqual({ chargeId: 'ch_42', cents: 1250 });
    expect(await inspector.textContent()).toContain('irreversible');
    expect(await inspector.getByTestId('identity-chain').textContent()).toBe(
      'agent:billing for workflow:support for user:alice',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'run-tool-call.png'), fullPage: true });

    // A model call: the full prompt, resolved from the journal's content-addressed messages.
    await tree.locator('[data-kind=model]').first().click();
    await inspector.getByTestId('prompt').waitFor();
    expect(await inspector.getByTestId('prompt').textContent()).toContain(
      'Ticket T-100: refund charge ch_42',
    );
    expect(await inspector.textContent()).toContain('120 in · 20 out');
    await page.screenshot({ path: join(SCREENSHOTS, 'run-model-call.png'), fullPage: true });
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('approves a pending approval in the inbox, and the run page sees the run complete', async () => {
    const runId = await startRun('support-inbox', { ticket: 'T-200' });
    await eventually(
      async () => ((await runStatus(runId)) === 'waiting' ? true : undefined),
      'the run to park for approval',
    );

    // Alice asked (the run acts for her); Bob, of the same tenant, decides.
    const page = await openAs('/approvals', 'bob');
    const card = page.locator(`[data-testid=approval][data-run="${runId}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('payments.refund');
    await page.screenshot({ path: join(SCREENSHOTS, 'approvals-inbox.png'), fullPage: true });

    // Edit the arguments (a partial refund), then approve.
    const args = card.getByLabel('Arguments');
    await args.fill(JSON.stringify({ chargeId: 'ch_42', cents: 700 }, null, 2));
    await card.getByRole('button', { name: 'Approve with edits' }).click();
    await card.getByRole('status').waitFor();
    expect(await card.getByRole('status').textContent()).toContain('Approved with edited arguments');

    await card.getByRole('link').click();
    await page.waitForURL(runUrl(server.url, runId));
    // The run page follows the run live (server-sent events) until it completes.
    await page.locator('.page-head [data-status=completed]').waitFor({ timeout: 20_000 });
    expect(await runStatus(runId)).toBe('completed');
    const tree = page.getByTestId('execution-tree');
    await tree.locator('[data-kind=approval][data-status=completed]').waitFor();
    expect(await tree.locator('.kind-approval').textContent()).toContain(
      'approved by user:bob with edited arguments',
    );
    await tree.locator('[data-kind=tool]', { hasText: 'tool payments.refund' }).click();
    await page.getByTestId('tool-result').waitFor();
    expect(JSON.parse((await page.getByTestId('tool-result').textContent())!)).toEqual({
      refunded: 700,
      chargeId: 'ch_42',
    });
    await page.screenshot({ path: join(SCREENSHOTS, 'run-approved-completed.png'), fullPage: true });

    await page.getByRole('tab', { name: 'Costs' }).click();
    await page.getByTestId('costs').waitFor();
    expect(await page.getByTestId('costs').textContent()).toContain('billing');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('draws a graph workflow with its nodes coloured by state, and a node opens in the inspector', async () => {
    const runId = await startRun('diamond', {});
    await eventually(
      async () => ((await runStatus(runId)) === 'completed' ? true : undefined),
      'the graph to finish',
    );
    const page = await openAs(`/runs/${runId}`);
    await page.getByRole('tab', { name: 'Graph' }).click();
    const graph = page.getByTestId('graph');
    await graph.locator('.react-flow__node').first().waitFor();
    expect(await graph.locator('.react-flow__node.state-completed').count()).toBe(4);
    await graph.locator('.react-flow__node', { hasText: 'merge' }).click();
    await page.getByTestId('inspector').locator('text=graph.node.started').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'run-graph.png'), fullPage: true });
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('lists runs with live status, filters them, and shows costs', async () => {
    const page = await openAs('/');
    const table = page.getByTestId('runs-table');
    await table.waitFor();
    const runId = await startRun('waiter', { name: 'Live' });
    const row = table.locator(`tr[data-run="${runId}"]`);
    await row.locator('[data-status=waiting]').waitFor({ timeout: 20_000 });
    await server.call(`/api/runs/${runId}/signals`, {
      method: 'POST',
      json: { name: 'go', payload: { reply: 'ok' } },
    });
    await row.locator('[data-status=completed]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'runs-list.png'), fullPage: true });

    await page.getByLabel('Workflow').fill('diamond');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/workflow=diamond/);
    await table.locator('tbody tr').first().waitFor();
    const workflows = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(new Set(workflows)).toEqual(new Set(['diamond']));

    await page.getByRole('link', { name: 'Costs' }).click();
    await page.getByTestId('costs').waitFor();
    expect(await page.getByTestId('costs').textContent()).toContain('scripted-support');
    await page.screenshot({ path: join(SCREENSHOTS, 'costs.png'), fullPage: true });
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('asks for a token when it has none, and refuses a bad one', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.getByLabel('API token').fill('not-a-valid-token-00000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The API answers 401; the UI forgets the token, says why, and asks again.
    await page.getByLabel('API token').waitFor();
    await page.getByTestId('sign-in-error').waitFor();
    expect(await page.getByTestId('sign-in-error').textContent()).toContain('refused the token');
    await page.getByLabel('API token').fill(TOKENS.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('runs-table').waitFor();
    await page.close();
  });

  it('says "No runs match." for a filter that matches nothing, instead of loading forever', async () => {
    const page = await openAs('/?workflow=no-such-workflow');
    await page.getByText('No runs match.').waitFor({ timeout: 20_000 });
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('shows a parked run as waiting, and links a fork to the run it was forked from', async () => {
    const runId = await startRun('waiter', { name: 'Parked' });
    await eventually(
      async () => ((await runStatus(runId)) === 'waiting' ? true : undefined),
      'the run to park',
    );
    const page = await openAs(`/runs/${runId}`);
    await page.getByText('Waiting for', { exact: true }).waitFor();
    expect(await page.getByText('Running for', { exact: true }).count()).toBe(0);

    const fork = await server.baton.fork(runId, { at: 2 });
    await page.goto(`${server.url}/runs/${fork.runId}`);
    const origin = page.getByTestId('forked-from');
    await origin.waitFor();
    expect(await origin.textContent()).toContain(runId);
    await origin.getByRole('link').click();
    await page.waitForURL(new RegExp(`/runs/${runId}$`));
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });
});
