import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { tool } from '../../src/agents/tool.ts';
import { Baton } from '../../src/baton.ts';
import { uiAssets } from '../../src/server/node.ts';
import { scriptedModel, type ScriptedRequest } from '../../src/testing/index.ts';
import { runUrl } from '../../src/server/run-url.ts';
import { describeBrowser, launchChromium, type LaunchedChromium } from '../support/browser.ts';
import { ensureUiBuilt } from '../support/ui-build.ts';
import { accessibilityProblems } from '../support/ui-session.ts';
import { until } from '../support/harness.ts';
import { diamond, replanned, supportWorkflow, waiter } from '../support/sample-workflows.ts';
import { startTestServer, type TestServer, TOKENS } from '../support/test-server.ts';

const SCREENSHOTS = join(process.cwd(), 'test-results', 'ui');

/** One model call of many tokens from a model with no price: "unpriced", and 12,345 with separators. */
function bigSpender(name: string) {
  return workflow(name, async (ctx) =>
    ctx.runAgent(
      agent({
        name: 'summarizer',
        description: 'Summaries',
        instructions: 'Summarize.',
        model: scriptedModel([{ text: 'Done.', usage: { inputTokens: 12_345, outputTokens: 6_789 } }], {
          modelId: 'unpriced-model',
        }),
      }),
      'Summarize the quarter',
    ),
  );
}

/** A run of about 2,000 journal events: 2,000 steps of one event each. */
const longRun = workflow('long-run', async (ctx) => {
  let total = 0;
  for (let index = 0; index < 2000; index++) total += await ctx.step(`step-${index}`, () => index);
  return total;
});

let server: TestServer;
let context: BrowserContext;
let browser: LaunchedChromium | undefined;

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

/** Fails with axe's own words when the page state has a serious or critical violation. */
async function expectAccessible(page: Page, state: string): Promise<void> {
  const problems = await accessibilityProblems(page);
  if (problems.length > 0)
    await appendFile(join(SCREENSHOTS, 'axe-violations.txt'), `${state}\n  ${problems.join('\n  ')}\n`);
  expect.soft(problems, state).toEqual([]);
}

describeBrowser('the web UI', (chromiumPath) => {
  beforeAll(async () => {
    const dist = await ensureUiBuilt();
    await mkdir(SCREENSHOTS, { recursive: true });
    await rm(join(SCREENSHOTS, 'axe-violations.txt'), { force: true });
    server = await startTestServer({
      workflows: [
        waiter,
        diamond,
        replanned,
        supportWorkflow('support'),
        supportWorkflow('support-inbox'),
        supportWorkflow('support-keys'),
        supportWorkflow('support-dark'),
        supportWorkflow('support-narrow'),
        supportWorkflow('support-count'),
        bigSpender('big-spender'),
        bigSpender('big-spender-list'),
        longRun,
      ],
      assets: uiAssets(dist),
    });
    browser = await launchChromium(chromiumPath, { viewport: { width: 1400, height: 900 } });
    context = browser.context;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens a run: timeline, execution tree, and a tool call’s arguments in the inspector', async () => {
    const runId = await startRun('support', { ticket: 'T-100' });
    await until(
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
    await expectAccessible(page, 'run page, execution tree');

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
    await expectAccessible(page, 'run page, inspector on a tool call');

    // A model call: the full prompt, resolved from the journal's content-addressed messages.
    await tree.locator('[data-kind=model]').first().click();
    await inspector.getByTestId('prompt').waitFor();
    expect(await inspector.getByTestId('prompt').textContent()).toContain(
      'Ticket T-100: refund charge ch_42',
    );
    expect(await inspector.textContent()).toContain('120 in · 20 out');
    await page.screenshot({ path: join(SCREENSHOTS, 'run-model-call.png'), fullPage: true });
    await expectAccessible(page, 'run page, inspector on a model call');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('approves a pending approval in the inbox, and the run page sees the run complete', async () => {
    const runId = await startRun('support-inbox', { ticket: 'T-200' });
    await until(
      async () => ((await runStatus(runId)) === 'waiting' ? true : undefined),
      'the run to park for approval',
    );

    // Alice asked (the run acts for her); Bob, of the same tenant, decides.
    const page = await openAs('/approvals', 'bob');
    const card = page.locator(`[data-testid=approval][data-run="${runId}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('payments.refund');
    await page.screenshot({ path: join(SCREENSHOTS, 'approvals-inbox.png'), fullPage: true });
    await expectAccessible(page, 'approvals inbox');

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
    await expectAccessible(page, 'completed run, inspector on a tool result');

    await page.getByRole('tab', { name: 'Costs' }).click();
    await page.getByTestId('costs').waitFor();
    expect(await page.getByTestId('costs').textContent()).toContain('billing');
    await expectAccessible(page, 'run page, costs tab');
    await page.getByRole('tab', { name: 'Input and result' }).click();
    await expectAccessible(page, 'run page, input and result tab');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('draws a graph workflow with its nodes coloured by state, and a node opens in the inspector', async () => {
    const runId = await startRun('diamond', {});
    await until(
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
    await expectAccessible(page, 'run page, graph tab');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('draws each plan revision with its kept tasks and why it replaced the last, and a loop with its edge counts', async () => {
    const runId = await startRun('replanned', { goal: 'a report' });
    await until(
      async () => ((await runStatus(runId)) === 'completed' ? true : undefined),
      'the plan to finish',
    );
    const page = await openAs(`/runs/${runId}`);
    await page.getByRole('tab', { name: 'Graph' }).click();
    await page.locator('h3', { hasText: 'plan replanned · revision 1' }).waitFor();
    expect(await page.locator('h3').allTextContents()).toEqual(
      expect.arrayContaining([
        'plan replanned · revision 0',
        'plan replanned · revision 1',
        'machine review',
      ]),
    );
    await page.locator("text=replaces revision 0: task 'figures' failed").first().waitFor();
    const graphs = page.getByTestId('graph');
    await graphs.nth(1).locator('.react-flow__node.state-kept', { hasText: 'sources' }).waitFor();
    await graphs.nth(0).locator('.react-flow__node.state-failed', { hasText: 'figures' }).waitFor();
    await graphs.nth(2).locator('.loop-edge-label', { hasText: '2/3' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'run-plan-revisions.png'), fullPage: true });
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
    await expectAccessible(page, 'runs list');

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
    await expectAccessible(page, 'costs page');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('asks for a token when it has none, and refuses a bad one', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.getByLabel('API token').waitFor();
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('API token').fill('not-a-valid-token-00000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The API answers 401; the UI forgets the token, says why, and asks again.
    await page.getByLabel('API token').waitFor();
    await page.getByTestId('sign-in-error').waitFor();
    expect(await page.getByTestId('sign-in-error').textContent()).toContain('refused the token');
    await expectAccessible(page, 'sign-in, token refused');
    await page.getByLabel('API token').fill(TOKENS.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('runs-table').waitFor();
    await page.close();
  });

  it('says "No runs match." for a filter that matches nothing, instead of loading forever', async () => {
    const page = await openAs('/?workflow=no-such-workflow');
    await page.getByText('No runs match.').waitFor({ timeout: 20_000 });
    await expectAccessible(page, 'runs list, nothing matches');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('shows a parked run as waiting, and links a fork to the run it was forked from', async () => {
    const runId = await startRun('waiter', { name: 'Parked' });
    await until(async () => ((await runStatus(runId)) === 'waiting' ? true : undefined), 'the run to park');
    const page = await openAs(`/runs/${runId}`);
    await page.getByText('Waiting for', { exact: true }).waitFor();
    expect(await page.getByText('Running for', { exact: true }).count()).toBe(0);
    await expectAccessible(page, 'parked run with a signal form');

    const fork = await server.baton.fork(runId, { at: 2 });
    await page.goto(`${server.url}/runs/${fork.runId}`);
    const origin = page.getByTestId('forked-from');
    await origin.waitFor();
    expect(await origin.textContent()).toContain(runId);
    await expectAccessible(page, 'forked run');
    await origin.getByRole('link').click();
    await page.waitForURL(new RegExp(`/runs/${runId}$`));
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('passes axe in dark mode too, and the theme toggle wins over the system and survives a reload', async () => {
    const runId = await startRun('support-dark', { ticket: 'T-300' });
    await until(
      async () => ((await runStatus(runId)) === 'waiting' ? true : undefined),
      'the run to park for approval',
    );
    const page = await openAs(`/runs/${runId}`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByTestId('execution-tree').waitFor();
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(await background()).toBe('rgb(18, 21, 27)');
    await expectAccessible(page, 'dark: run page');
    await page.getByTestId('execution-tree').locator('[data-kind=tool]').first().click();
    await page.getByTestId('inspector').getByTestId('identity-chain').waitFor();
    await expectAccessible(page, 'dark: inspector');
    await page.screenshot({ path: join(SCREENSHOTS, 'dark-run.png'), fullPage: true });
    await page.goto(`${server.url}/approvals`);
    await page.getByTestId('approval').first().waitFor();
    await expectAccessible(page, 'dark: approvals');
    await page.goto(`${server.url}/costs`);
    await page.getByTestId('costs').waitFor();
    await expectAccessible(page, 'dark: costs');
    await page.goto(`${server.url}/`);
    await page.getByTestId('runs-table').waitFor();
    await expectAccessible(page, 'dark: runs list');
    await page.screenshot({ path: join(SCREENSHOTS, 'dark-runs-list.png'), fullPage: true });

    // System → light: light although the system prefers dark, and still after a reload.
    const toggle = page.getByTestId('theme-toggle');
    expect(await toggle.textContent()).toBe('System theme');
    await toggle.click();
    expect(await toggle.textContent()).toBe('Light theme');
    expect(await background()).toBe('rgb(246, 247, 249)');
    await page.reload();
    await page.getByTestId('runs-table').waitFor();
    expect(await background()).toBe('rgb(246, 247, 249)');
    await expectAccessible(page, 'light chosen over a dark system');
    // Light → dark → system, back where it started.
    await toggle.click();
    expect(await background()).toBe('rgb(18, 21, 27)');
    await toggle.click();
    expect(await toggle.textContent()).toBe('System theme');
    expect(await page.evaluate(() => localStorage.getItem('baton.theme'))).toBeNull();
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('at 390 px wide no page scrolls sideways, and the inspector is a bottom sheet', async () => {
    const runId = await startRun('support-narrow', { ticket: 'T-390' });
    await until(
      async () => ((await runStatus(runId)) === 'waiting' ? true : undefined),
      'the run to park for approval',
    );
    const page = await openAs('/');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = () =>
      page.evaluate(() => {
        const root = document.scrollingElement!;
        return root.scrollWidth - root.clientWidth;
      });
    await page.getByTestId('runs-table').waitFor();
    expect(await overflow(), 'runs list').toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'narrow-runs-list.png'), fullPage: true });

    await page.goto(`${server.url}/runs/${runId}`);
    await page.getByTestId('execution-tree').waitFor();
    expect(await overflow(), 'run page').toBe(0);
    await page
      .getByTestId('execution-tree')
      .locator('[data-kind=tool]', { hasText: 'payments.refund' })
      .click();
    const inspector = page.getByTestId('inspector');
    await inspector.getByTestId('tool-arguments').waitFor();
    expect(await overflow(), 'run page with the inspector').toBe(0);
    const sheet = (await inspector.boundingBox())!;
    expect(sheet.x).toBe(0);
    expect(sheet.width).toBe(390);
    expect(Math.round(sheet.y + sheet.height)).toBe(844);
    await page.screenshot({ path: join(SCREENSHOTS, 'narrow-inspector.png') });
    await expectAccessible(page, 'narrow: inspector as a bottom sheet');
    for (const tab of ['Costs', 'Input and result']) {
      await page.getByRole('tab', { name: tab }).click();
      expect(await overflow(), `run page, ${tab}`).toBe(0);
    }

    await page.goto(`${server.url}/approvals`);
    await page.getByTestId('approval').first().waitFor();
    expect(await overflow(), 'approvals').toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'narrow-approvals.png'), fullPage: true });
    await page.goto(`${server.url}/costs`);
    await page.getByTestId('costs').waitFor();
    expect(await overflow(), 'costs').toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'narrow-costs.png'), fullPage: true });
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('keeps the step and the tab in the address, closes the inspector on Esc, and copies the link', async () => {
    const runId = await startRun('support-keys', { ticket: 'T-400' });
    await until(
      async () => ((await runStatus(runId)) === 'waiting' ? true : undefined),
      'the run to park for approval',
    );
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await openAs(`/runs/${runId}`);
    const tree = page.getByTestId('execution-tree');
    await tree.locator('[data-kind=tool]', { hasText: 'payments.refund' }).click();
    const inspector = page.getByTestId('inspector');
    await inspector.getByTestId('tool-arguments').waitFor();
    const step = new URL(page.url()).searchParams.get('step');
    expect(step).toMatch(/^\d+$/);
    await page.getByRole('tab', { name: 'Costs' }).click();
    await page.getByTestId('costs').waitFor();
    expect(new URL(page.url()).searchParams.get('tab')).toBe('costs');

    // A reload (or the copied link) opens the same step on the same tab.
    await page.reload();
    await inspector.getByTestId('tool-arguments').waitFor();
    expect(JSON.parse((await inspector.getByTestId('tool-arguments').textContent())!)).toEqual({
      chargeId: 'ch_42',
      cents: 1250,
    });
    expect(await page.getByRole('tab', { name: 'Costs' }).getAttribute('aria-selected')).toBe('true');
    await page.getByTestId('costs').waitFor();

    await inspector.getByTestId('copy-link').click();
    await inspector.getByText('Link copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(page.url());
    expect(page.url()).toContain(`step=${step}`);

    await page.keyboard.press('Escape');
    await inspector.waitFor({ state: 'detached' });
    expect(new URL(page.url()).searchParams.get('step')).toBeNull();

    // Keyboard: arrows move between tabs and through the tree; a timeline bar opens with Enter.
    await page.getByRole('tab', { name: 'Costs' }).focus();
    await page.keyboard.press('ArrowLeft');
    expect(await page.getByRole('tab', { name: 'Execution tree' }).getAttribute('aria-selected')).toBe(
      'true',
    );
    const focusedLabel = () =>
      page.evaluate(() => (document.activeElement as HTMLElement | null)?.textContent ?? '');
    await tree.locator('button.tree-node').first().focus();
    await page.keyboard.press('ArrowDown');
    expect(await focusedLabel()).toContain('step load-account');
    await page.keyboard.press('End');
    const nodes = await tree.locator('button.tree-node').allTextContents();
    expect(await focusedLabel()).toBe(nodes.at(-1));
    await page.keyboard.press('ArrowLeft');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-kind'))).not.toBe(
      nodes.at(-1),
    );
    await page.keyboard.press('Home');
    expect(await focusedLabel()).toBe(nodes[0]);
    await page.keyboard.press('ArrowRight');
    expect(await focusedLabel()).toBe(nodes[1]);

    const bar = page.getByTestId('timeline').locator('.bar-tool').first();
    expect(await bar.evaluate((element) => (element as HTMLElement).tabIndex)).toBe(0);
    await bar.focus();
    await page.keyboard.press('Enter');
    await inspector.getByTestId('tool-arguments').waitFor();
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('says "unpriced" for a model without a price, separates thousands, and counts pending approvals', async () => {
    const runId = await startRun('big-spender', {});
    await until(
      async () => ((await runStatus(runId)) === 'completed' ? true : undefined),
      'the run to finish',
    );
    const page = await openAs(`/runs/${runId}?tab=costs`);
    const costs = page.getByTestId('costs');
    await costs.waitFor();
    const summary = (await costs.locator('p').first().textContent())!;
    expect(summary).toContain('unpriced');
    expect(summary).toContain('12,345 input and 6,789 output');
    expect(summary).not.toContain('$0');
    expect(await costs.locator('tbody tr', { hasText: 'summarizer' }).textContent()).toContain('unpriced');
    expect(await page.getByTestId('run-cost').textContent()).toBe('unpriced · 19,134 tokens');
    await page.screenshot({ path: join(SCREENSHOTS, 'costs-unpriced.png'), fullPage: true });

    // The navigation counts the approvals waiting for a decision.
    const parked = await startRun('support-count', { ticket: 'T-500' });
    await until(
      async () => ((await runStatus(parked)) === 'waiting' ? true : undefined),
      'the run to park for approval',
    );
    const pendingNow = async () =>
      ((await (await server.call('/api/approvals?status=pending')).json()) as { approvals: unknown[] })
        .approvals.length;
    await until(async () => {
      const shown = await page.getByTestId('pending-approvals').textContent({ timeout: 10_000 });
      return shown === `${await pendingNow()} pending` ? true : undefined;
    }, 'the navigation to count the pending approvals');
    expect(await pendingNow()).toBeGreaterThan(0);
    await expectAccessible(page, 'run costs tab with the approvals count');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('searches runs by id and text, matches part of a workflow, several statuses at once, with cost and origin columns', async () => {
    const waiting = await startRun('waiter', { name: 'Needle-7f3a' });
    const spender = await startRun('big-spender-list', {});
    await until(
      async () =>
        (await runStatus(waiting)) === 'waiting' && (await runStatus(spender)) === 'completed'
          ? true
          : undefined,
      'the runs to park and finish',
    );
    const fork = await server.baton.fork(waiting, { at: 2 });
    const answered = await startRun('waiter', { name: 'Answered' });
    await until(
      async () => ((await runStatus(answered)) === 'waiting' ? true : undefined),
      'the run to park',
    );
    await server.call(`/api/runs/${answered}/signals`, { method: 'POST', json: { name: 'go', payload: {} } });
    await until(
      async () => ((await runStatus(answered)) === 'completed' ? true : undefined),
      'the run to complete',
    );
    const page = await openAs('/');
    const table = page.getByTestId('runs-table');
    await table.waitFor();

    // Text in the input finds the run (and its fork, whose input is the same).
    await page.getByLabel('Search').fill('needle-7F3A');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/q=needle-7F3A/);
    await until(
      async () => ((await table.locator('tbody tr').count()) === 2 ? true : undefined),
      'two runs to match the text',
    );
    expect(
      new Set(
        await table
          .locator('tbody tr')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run'))),
      ),
    ).toEqual(new Set([waiting, fork.runId]));
    // The fork links to the run it was forked from.
    const origin = table.locator(`tr[data-run="${fork.runId}"]`).getByTestId('run-origin');
    expect(await origin.textContent()).toContain('fork of');
    expect(await origin.getByRole('link').getAttribute('href')).toBe(`/runs/${waiting}`);
    await expectAccessible(page, 'runs list searched');

    // Part of a run id.
    await page.goto(`${server.url}/?q=${spender.slice(6, 18)}`);
    await table.locator(`tr[data-run="${spender}"]`).waitFor();
    expect(await table.locator('tbody tr').count()).toBe(1);
    // Its cost: unpriced, with the token count.
    const row = table.locator(`tr[data-run="${spender}"]`);
    await row.getByText('unpriced').waitFor();
    expect(await row.textContent()).toContain('19,134');

    // Part of a workflow name, and two statuses at once.
    await page.goto(`${server.url}/`);
    await page.getByLabel('Workflow').fill('ait');
    await page.getByRole('checkbox', { name: 'waiting' }).check();
    await page.getByRole('checkbox', { name: 'completed' }).check();
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=waiting%2Ccompleted|status=waiting,completed/);
    await table.locator(`tr[data-run="${waiting}"]`).waitFor();
    const workflows = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(new Set(workflows)).toEqual(new Set(['waiter']));
    const statuses = await table
      .locator('tbody tr [data-status]')
      .evaluateAll((badges) => badges.map((badge) => badge.getAttribute('data-status')));
    expect(new Set(statuses)).toEqual(new Set(['waiting', 'completed']));
    await page.screenshot({ path: join(SCREENSHOTS, 'runs-search.png'), fullPage: true });
    await expectAccessible(page, 'runs list, statuses and part of a workflow');
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  });

  it('opens a run of about 2,000 events (first paint measured and saved, not asserted)', async () => {
    const runId = await startRun('long-run', {});
    await until(
      async () => ((await runStatus(runId)) === 'completed' ? true : undefined),
      'the long run to finish',
      60_000,
    );
    const events = ((await (await server.call(`/api/runs/${runId}`)).json()) as { run: { lastSeq: number } })
      .run.lastSeq;
    expect(events).toBeGreaterThanOrEqual(2000);
    const page = await openAs(`/runs/${runId}`);
    await page.getByTestId('execution-tree').locator('[data-kind=step]').last().waitFor({ timeout: 60_000 });
    const timing = await page.evaluate(() => ({
      firstContentfulPaintMs: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
      treeShownMs: performance.now(),
    }));
    // The baseline, measured in the same run: a run of a few events.
    const small = await startRun('waiter', { name: 'Baseline' });
    await until(
      async () => ((await runStatus(small)) === 'waiting' ? true : undefined),
      'the baseline run to park',
    );
    const baselinePage = await openAs(`/runs/${small}`);
    await baselinePage.getByTestId('execution-tree').locator('[data-kind=signal]').waitFor();
    const baselineMs = await baselinePage.evaluate(() => performance.now());
    await baselinePage.close();
    await writeFile(
      join(SCREENSHOTS, 'first-paint.json'),
      JSON.stringify(
        { events, ...timing, baselineTreeShownMs: baselineMs, ratio: timing.treeShownMs / baselineMs },
        null,
        2,
      ),
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'long-run.png') });
    expect(await page.getByTestId('execution-tree').locator('[data-kind=step]').count()).toBe(2000);
    expect(problemsOf(page)).toEqual([]);
    await page.close();
  }, 120_000);

  /** An agent that charges once with an irreversible tool; `hang` keeps the first charge from returning. */
  function charging(hang: boolean, executions: number[]) {
    const charge = tool({
      name: 'payments.charge',
      description: 'Charges a card',
      input: z.object({ cents: z.number().int().positive() }),
      effect: 'irreversible',
      execute: async ({ cents }) => {
        executions.push(cents);
        if (hang) await new Promise(() => {});
        return { charged: cents };
      },
    });
    const reply = (request: ScriptedRequest) =>
      request.toolResults.length === 0
        ? { toolCalls: [{ name: 'payments.charge', args: { cents: 500 } }] }
        : `Result: ${JSON.stringify(request.toolResults[0]!.output)}`;
    const cashier = agent({
      name: 'cashier',
      description: 'Charges',
      instructions: 'Charge 500.',
      model: scriptedModel([reply, reply]),
      tools: [charge],
    });
    return workflow('charging', async (ctx) => ctx.runAgent(cashier, 'Charge 5 euros'));
  }

  describe('tool calls in doubt in the web UI', () => {
    it('lists a call a crash left in doubt, and skipping it with a result lets the run finish', async () => {
      const doubt = await startTestServer({ worker: false, assets: uiAssets(await ensureUiBuilt()) });
      const store = `sqlite:${doubt.baton.store.location}`;
      const executions: number[] = [];
      // The first worker stops mid-charge (closing it leaves the call between intent and result).
      const crashed = await Baton.open({
        store,
        workflows: [charging(true, executions)],
        worker: { pollMs: 20 },
        log: () => undefined,
      });
      const { runId } = await crashed.start('charging', {}, { as: 'user:alice', tenant: 'acme' });
      await until(async () => (executions.length === 1 ? true : undefined), 'the charge to start');
      await crashed.close();
      const resumed = await Baton.open({
        store,
        workflows: [charging(false, executions)],
        worker: { pollMs: 20 },
        log: () => undefined,
      });
      try {
        await until(
          async () => ((await resumed.getRun(runId)).status === 'waiting' ? true : undefined),
          'the call to park in doubt',
        );
        const page = await context.newPage();
        await page.goto(`${doubt.url}/approvals#token=${TOKENS.alice}`);
        const card = page.locator(`[data-testid=in-doubt][data-run="${runId}"]`);
        await card.waitFor();
        const text = (await card.textContent()) ?? '';
        expect(text).toContain('payments.charge');
        expect(text).toContain('irreversible');
        expect(text).toContain('"cents": 500');
        await page.screenshot({ path: join(SCREENSHOTS, 'in-doubt.png'), fullPage: true });

        await card.getByLabel('Result').fill('{"charged": 500, "checkedBy": "alice"}');
        await card.getByRole('button', { name: 'Skip' }).click();
        await card.getByRole('status').waitFor();
        expect(await card.getByRole('status').textContent()).toContain('Skipped, with the result.');
        expect(await resumed.handle(runId).result()).toBe('Result: {"charged":500,"checkedBy":"alice"}');
        expect(executions).toEqual([500]);
        const resolved = (await resumed.handle(runId).history()).find(
          (event) => event.type === 'tool.resolved',
        );
        expect(resolved?.payload).toMatchObject({ action: 'skip', by: 'user:alice' });
        await page.close();
      } finally {
        await resumed.close();
        await doubt.close();
      }
    });
  });
});
