import { afterAll, beforeAll, expect, it } from 'vitest';
import { parallel, route, workflow } from '../../src/index.ts';
import { uiAssets } from '../../src/server/node.ts';
import { describeBrowser } from '../support/browser.ts';
import { ensureUiBuilt } from '../support/ui-build.ts';
import { openUiSession, type UiSession } from '../support/ui-session.ts';
import { until } from '../support/harness.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

type Json = Record<string, any>;

/** Two branches fanning out and joining, then a router choosing one of two routes by a condition. */
const triage = workflow('triage-graph', async (ctx) => {
  await parallel(
    ctx,
    {
      web: (branch) => branch.step('web', () => 'W'),
      papers: (branch) => branch.step('papers', () => 'P'),
    },
    { name: 'research' },
  );
  return route(ctx, {
    name: 'triage',
    input: 'please refund my order',
    classify: (text) => ({
      route: text.includes('refund') ? 'billing' : 'tech',
      reason: 'it mentions a refund',
      scores: { billing: 0.9, tech: 0.1 },
    }),
    routes: {
      billing: async (_ctx, text: string) => `billing: ${text}`,
      tech: async (_ctx, text: string) => `tech: ${text}`,
    },
  });
});

let server: TestServer;
let ui: UiSession;

async function call(path: string, init: Parameters<TestServer['call']>[1] = {}) {
  return (await (await server.call(path, init)).json()) as Json;
}

describeBrowser('the web UI: graphs of route and parallel patterns', (chromiumPath) => {
  beforeAll(async () => {
    const dist = await ensureUiBuilt();
    server = await startTestServer({ workflows: [triage], assets: uiAssets(dist) });
    ui = await openUiSession(chromiumPath, 'ui-pattern-graphs');
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    await server?.close();
  });

  it('draws the fork, branches and join, and the router with the chosen route and its condition on the edge', async () => {
    const started = await call('/api/runs', { method: 'POST', json: { workflow: 'triage-graph' } });
    const runId = started.run.runId as string;
    await until(
      async () => ((await call(`/api/runs/${runId}`)).run.status === 'completed' ? true : undefined),
      'the run to finish',
      60_000,
    );
    const page = await ui.open(server, `/runs/${runId}`);
    await page.getByRole('tab', { name: 'Graph' }).click();
    await page.locator('h3', { hasText: 'route triage' }).waitFor();
    expect(await page.locator('h3').allTextContents()).toEqual(
      expect.arrayContaining(['parallel research', 'route triage']),
    );
    const [fanout, router] = [page.getByTestId('graph').nth(0), page.getByTestId('graph').nth(1)];
    await fanout.locator('.react-flow__node', { hasText: 'research · join' }).waitFor();
    expect(await fanout.locator('.react-flow__node.state-completed').count()).toBe(4);
    expect(await fanout.locator('.react-flow__edge', { hasText: 'succeeded' }).count()).toBe(2);

    const chosen = router.locator('.react-flow__node.state-chosen');
    await chosen.waitFor();
    expect(await chosen.textContent()).toContain('billing');
    expect(await router.locator('.react-flow__node.state-skipped').textContent()).toContain('tech');
    const condition = router.locator('.react-flow__edge.chosen-edge');
    expect(await condition.textContent()).toContain('it mentions a refund · score 0.9');
    await ui.screenshot(page, 'route-and-parallel-graphs');
    await ui.expectAccessible(page, 'graph tab, route and parallel');

    // The chosen route opens the decision in the inspector.
    await chosen.click();
    await page.getByTestId('inspector').locator('text=route.decided').first().waitFor();
    await ui.expectAccessible(page, 'graph tab, the route decision inspected');

    // At 390 px the graphs fit the page: nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('h3', { hasText: 'route triage' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
    await ui.screenshot(page, 'route-and-parallel-graphs-390');
    expect(ui.problems(page)).toEqual([]);
    await page.close();
  });
});
