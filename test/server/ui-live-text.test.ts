import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { uiAssets } from '../../src/server/node.ts';
import { describeBrowser, launchChromium, type LaunchedChromium } from '../support/browser.ts';
import { gate } from '../support/harness.ts';
import { startTestServer, type TestServer, TOKENS } from '../support/test-server.ts';
import { pacedModel } from '../support/paced-model.ts';
import { ensureUiBuilt } from '../support/ui-build.ts';

// The run page shows a model call's text as the model writes it (the run's live stream), then the
// journaled call in its place.

const release = gate();
const tokens = ['The', ' answer', ' streams', ' in', ' live', '.'];
const teller = agent({
  name: 'teller',
  description: 'Tells',
  instructions: 'Tell it.',
  model: pacedModel(tokens, async (index) => (index === 3 ? release.promise : undefined)),
});
const telling = workflow('telling', async (ctx) => ctx.runAgent(teller, 'Tell me'));

describeBrowser('the web UI, live', (chromiumPath) => {
  let server: TestServer;
  let context: BrowserContext | undefined;
  let browser: LaunchedChromium | undefined;

  beforeAll(async () => {
    const dist = await ensureUiBuilt();
    server = await startTestServer({ workflows: [telling], assets: uiAssets(dist) });
    browser = await launchChromium(chromiumPath);
    context = browser.context;
  }, 180_000);

  afterAll(async () => {
    release.open();
    await browser?.close();
    await server?.close();
  });

  it("shows a model call's text in the tree as it streams, then the committed call", async () => {
    const started = await server.call('/api/runs', {
      method: 'POST',
      json: { workflow: 'telling', input: {} },
    });
    const runId = ((await started.json()) as { run: { runId: string } }).run.runId;
    const page = await context!.newPage();
    await page.goto(`${server.url}/runs/${runId}#token=${TOKENS.alice}`);
    const live = page.getByTestId('live-call-text');
    await expect.poll(async () => live.textContent(), { timeout: 20_000 }).toBe('The answer streams');
    expect(await page.getByTestId('live-call').textContent()).toContain('teller');
    release.open();
    await expect.poll(async () => page.getByTestId('live-call').count(), { timeout: 20_000 }).toBe(0);
    await expect
      .poll(async () => (await server.baton.getRun(runId)).status, { timeout: 20_000 })
      .toBe('completed');
    await page.close();
  });
});
