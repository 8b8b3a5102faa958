import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../examples/chat/server.ts';
import { describeBrowser, launchChromium } from './support/browser.ts';

// The examples/chat app (Vite + React + useChat from @ai-sdk/react), built and served by a real
// Baton server with the offline scripted desk, driven in Chromium: the answer streams in, a refund
// shows as a tool call asking for approval, the visitor approves, the refund's output and the
// desk's confirmation arrive; a reload keeps the conversation's run.

const EXAMPLE = resolve(import.meta.dirname, '../examples/chat');

describeBrowser('the chat example in Chromium', (chromiumPath) => {
  let server: ChatServer | undefined;
  let context: BrowserContext | undefined;
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'baton-chat-example-'));
    const dist = join(directory, 'dist');
    const { build } = await import('vite');
    await build({ configFile: join(EXAMPLE, 'vite.config.ts'), build: { outDir: dist }, logLevel: 'warn' });
    server = await startChatServer({ dist, store: `sqlite:${join(directory, 'chat.db')}` });
    context = (await launchChromium(chromiumPath, { profile: join(directory, 'profile') })).context;
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('useChat gets the answer, a tool call and its approval, then the result', async () => {
    const page = await context!.newPage();
    await page.goto(server!.url);
    await page.getByTestId('run').waitFor();
    const runId = new URL(page.url()).searchParams.get('run');
    expect(runId).toMatch(/^run_/);

    const input = page.getByLabel('Message');
    await input.fill('Hello');
    await page.getByRole('button', { name: 'Send' }).click();
    const desk = page.locator('li[data-role="assistant"]');
    await expect
      .poll(async () => desk.first().textContent(), { timeout: 20_000 })
      .toContain('Hello! I am the billing desk.');

    await expect
      .poll(async () => page.getByTestId('status').textContent(), { timeout: 20_000 })
      .toBe('ready');
    await input.fill('Please refund ch_42');
    await page.getByRole('button', { name: 'Send' }).click();
    const toolCall = page.getByTestId('tool');
    await toolCall.waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => toolCall.getAttribute('data-state'), { timeout: 20_000 })
      .toBe('approval-requested');
    expect(await toolCall.textContent()).toContain('{"cents":1250,"chargeId":"ch_42"}');

    await page.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(async () => toolCall.getAttribute('data-state'), { timeout: 20_000 })
      .toBe('output-available');
    expect(await page.getByTestId('output').textContent()).toBe('{"chargeId":"ch_42","refunded":1250}');
    await expect
      .poll(async () => desk.last().textContent(), { timeout: 20_000 })
      .toContain('Done: refunded {"chargeId":"ch_42","refunded":1250}. Anything else?');

    // The run journaled it all: the approval decided by the visitor, the refund made once.
    const events = await server!.baton.store.readEvents(runId!);
    expect(events.find((event) => event.type === 'approval.decided')?.payload).toMatchObject({
      decision: 'approved',
      by: 'user:visitor',
    });
    expect(events.filter((event) => event.type === 'tool.called')).toHaveLength(1);

    // A reload keeps the conversation (its run, from the address) and answers on it.
    await page.reload();
    await page.getByTestId('run').waitFor();
    expect(new URL(page.url()).searchParams.get('run')).toBe(runId);
    await expect
      .poll(async () => page.getByTestId('status').textContent(), { timeout: 20_000 })
      .toBe('ready');
    await page.getByLabel('Message').fill('Thanks');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect
      .poll(async () => page.locator('li[data-role="assistant"]').last().textContent(), { timeout: 20_000 })
      .toContain('You are welcome. Goodbye!');
    await page.close();
  });
});
