import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { tool } from '../../src/agents/tool.ts';
import { parallel } from '../../src/patterns/parallel.ts';
import { route } from '../../src/patterns/route.ts';
import { uiAssets } from '../../src/server/node.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { describeBrowser } from '../support/browser.ts';
import { ensureUiBuilt } from '../support/ui-build.ts';
import { openUiSession, type UiSession } from '../support/ui-session.ts';
import { until } from '../support/harness.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

type Json = Record<string, any>;

const add = tool({
  name: 'math.add',
  description: 'Adds two numbers',
  input: z.object({ a: z.number(), b: z.number() }),
  effect: 'read',
  execute: async ({ a, b }) => ({ sum: a + b }),
});

/** Two turns: a tool call, then an answer; the second prompt adds the tool's result to the first. */
function calculator() {
  return agent({
    name: 'calculator',
    description: 'Sums',
    instructions: 'Add numbers with the tool.',
    model: scriptedModel([
      { toolCalls: [{ name: 'math.add', args: { a: 2, b: 2 }, id: 'call_add' }] },
      'The sum is 4.',
    ]),
    tools: [add],
  });
}

/** A multi-line step result, two branches at once, a wait with no work, a route to an agent. */
const views = workflow('views', async (ctx) => {
  const note = await ctx.step('note', () => 'line one\nline two');
  await parallel(
    ctx,
    {
      a: (branch) => branch.step('fetch-a', () => 'A'),
      b: (branch) => branch.step('fetch-b', () => 'B'),
    },
    { name: 'research' },
  );
  await ctx.sleep('1500ms');
  const answer = await route(ctx, {
    name: 'triage',
    input: 'What is 2 + 2?',
    classify: () => ({ route: 'math', reason: 'it asks for a sum' }),
    routes: { math: (routed, question: string) => routed.run(calculator(), question) },
  });
  return { note, answer };
});

/** 300 steps: more events than the history list draws at once. */
const many = workflow('many', async (ctx) => {
  for (let index = 0; index < 300; index++) await ctx.step(`step-${index}`, () => index);
  return 'done';
});

let server: TestServer;
let ui: UiSession;

async function call(path: string, init: Parameters<TestServer['call']>[1] = {}) {
  return (await (await server.call(path, init)).json()) as Json;
}

async function finished(workflowName: string): Promise<string> {
  const started = await call('/api/runs', { method: 'POST', json: { workflow: workflowName } });
  const runId = started.run.runId as string;
  await until(
    async () => ((await call(`/api/runs/${runId}`)).run.status === 'completed' ? true : undefined),
    `the ${workflowName} run to finish`,
    60_000,
  );
  return runId;
}

describeBrowser('the web UI: timeline, tree and history', (chromiumPath) => {
  beforeAll(async () => {
    const dist = await ensureUiBuilt();
    server = await startTestServer({ workflows: [views, many], assets: uiAssets(dist) });
    ui = await openUiSession(chromiumPath, 'ui-views');
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    await server?.close();
  });

  it('cuts a long wait out of the timeline, zooms inside its own scroll area, and moves between bars by arrows', async () => {
    const runId = await finished('views');
    const page = await ui.open(server, `/runs/${runId}`);
    const timeline = page.getByTestId('timeline');
    await timeline.getByTestId('timeline-break').first().waitFor();
    expect(await timeline.getByTestId('timeline-break').first().getAttribute('title')).toMatch(
      /with no work, cut short$/,
    );
    await ui.screenshot(page, 'timeline-cut');
    await ui.expectAccessible(page, 'timeline with a cut');
    await timeline.getByTestId('compress-waits').uncheck();
    expect(await timeline.getByTestId('timeline-break').count()).toBe(0);
    await timeline.getByTestId('compress-waits').check();

    await timeline.getByTestId('zoom-in').click();
    expect(
      await timeline.locator('.timeline-canvas').evaluate((canvas) => (canvas as HTMLElement).style.width),
    ).toBe('200%');
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(sideways).toBe(false);
    await ui.expectAccessible(page, 'timeline zoomed');

    // Every bar is in the tab order; arrows also move along the bars in time order.
    const bars = timeline.locator('button.bar');
    const stops = await bars.evaluateAll(
      (all) => all.filter((bar) => (bar as HTMLElement).tabIndex === 0).length,
    );
    expect(stops).toBe(await bars.count());
    await bars.first().focus();
    const before = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.seq);
    await page.keyboard.press('ArrowRight');
    const after = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.seq);
    expect(after).not.toBe(before);
    await page.keyboard.press('Enter');
    await page.getByTestId('inspector').waitFor();
    expect(new URL(page.url()).searchParams.get('step')).toBe(after);
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('groups a parallel pattern and a route in the tree, folds nodes by click and by arrow keys', async () => {
    const runId = await finished('views');
    const page = await ui.open(server, `/runs/${runId}`);
    const tree = page.getByTestId('execution-tree');
    const group = tree.locator('[role=treeitem]:has(> .tree-row [data-kind=parallel])');
    await group.waitFor();
    expect(await group.locator('> .tree-row').textContent()).toContain('parallel research');
    expect(await group.locator('[data-kind=step]').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('fetch-a'), expect.stringContaining('fetch-b')]),
    );
    const routed = tree.locator('[role=treeitem]:has(> .tree-row [data-kind=route])');
    expect(await routed.locator('[data-kind=agent]').count()).toBeGreaterThan(0);
    await ui.expectAccessible(page, 'tree with groups');

    await group.getByTestId('tree-toggle').first().click();
    expect(await group.getAttribute('aria-expanded')).toBe('false');
    expect(await group.locator('[data-kind=step]').count()).toBe(0);
    await ui.screenshot(page, 'tree-folded');
    await ui.expectAccessible(page, 'tree with a folded group');
    // Right unfolds, left folds again.
    await group.locator('> .tree-row button.tree-node').focus();
    await page.keyboard.press('ArrowRight');
    expect(await group.getAttribute('aria-expanded')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    expect(await group.getAttribute('aria-expanded')).toBe('false');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('lists every event in the History tab, filters them, shows payloads with real newlines and a prompt as a diff', async () => {
    const runId = await finished('views');
    const journal = (await call(`/api/runs/${runId}/journal`)).events as Json[];
    const page = await ui.open(server, `/runs/${runId}?tab=history`);
    const history = page.getByTestId('history');
    await history.waitFor();
    expect(await history.getByTestId('history-count').textContent()).toBe(`${journal.length} events`);
    await ui.expectAccessible(page, 'history tab');

    await history.getByLabel('Type').selectOption('step.completed');
    const steps = journal.filter((event) => event.type === 'step.completed');
    expect(await history.getByTestId('history-count').textContent()).toBe(
      `${steps.length} of ${journal.length} events`,
    );
    await history.locator(`button[data-seq="${steps[0]!.seq}"]`).click();
    const detail = history.getByTestId('history-detail');
    expect(await detail.locator('.readable-text').first().innerText()).toBe('line one\nline two');
    await ui.screenshot(page, 'history-payload');
    await ui.expectAccessible(page, 'history, a payload');

    await history.getByLabel('Type').selectOption('llm.called');
    const calls = journal.filter((event) => event.type === 'llm.called');
    expect(calls).toHaveLength(2);
    await history.locator(`button[data-seq="${calls[1]!.seq}"]`).click();
    const diff = detail.getByTestId('prompt-diff');
    await diff.waitFor();
    expect(await diff.textContent()).toContain(
      `The prompt of event ${calls[0]!.seq} (turn 1), then what this turn adds:`,
    );
    const added = await diff.locator('.diff-added').allTextContents();
    expect(added.join('\n')).toContain('sum');
    expect(added.join('\n')).not.toContain('What is 2 + 2?');
    await ui.screenshot(page, 'history-prompt-diff');
    await ui.expectAccessible(page, 'history, a prompt diff');

    await history.getByLabel('Filter').fill('fetch-b');
    await history.getByLabel('Type').selectOption('');
    expect(await history.locator('button.history-row').count()).toBe(
      journal.filter((event) => JSON.stringify(event.payload).includes('fetch-b')).length,
    );
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });

  it('draws only the history rows in view for a long run, and reaches the last by scrolling', async () => {
    const runId = await finished('many');
    const last = (await call(`/api/runs/${runId}`)).run.lastSeq as number;
    const page = await ui.open(server, `/runs/${runId}?tab=history`);
    const list = page.locator('.history-list');
    await list.waitFor();
    expect(await page.getByTestId('history-count').textContent()).toBe(`${last} events`);
    expect(await page.locator('button.history-row').count()).toBeLessThan(60);
    await list.evaluate((element) => (element.scrollTop = element.scrollHeight));
    await page.locator(`button.history-row[data-seq="${last}"]`).waitFor();
    expect(await page.locator('button.history-row').count()).toBeLessThan(60);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
    await ui.screenshot(page, 'history-long-390');
    await ui.expectAccessible(page, 'history of a long run at 390 px');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });
});
