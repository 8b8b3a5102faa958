import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchChromium } from './browser.ts';
import { type TestServer, TOKENS } from './test-server.ts';

// Evaluated over the DevTools protocol rather than added as a script tag: the UI's CSP refuses inline scripts.
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A headless Debian Chromium on a fresh profile, with pages signed in to a test server; screenshots in `folder`. */
export interface UiSession {
  readonly screenshots: string;
  /** A page signed in (as alice unless told) at `path`; its console errors are collected. */
  open(server: TestServer, path: string, who?: keyof typeof TOKENS): Promise<Page>;
  /** Errors the page logged or threw. */
  problems(page: Page): string[];
  /** A full-page screenshot under the session's folder. */
  screenshot(page: Page, name: string): Promise<void>;
  /** Fails (softly, with axe's words) when the page state has a serious or critical violation. */
  expectAccessible(page: Page, state: string): Promise<void>;
  close(): Promise<void>;
}

export async function openUiSession(chromiumPath: string, folder: string): Promise<UiSession> {
  const screenshots = join(process.cwd(), 'test-results', folder);
  await mkdir(screenshots, { recursive: true });
  await rm(join(screenshots, 'axe-violations.txt'), { force: true });
  const chromium = await launchChromium(chromiumPath, { viewport: { width: 1400, height: 900 } });
  const { context } = chromium;
  const problems = new WeakMap<Page, string[]>();
  return {
    screenshots,
    async open(server, path, who = 'alice') {
      const page = await context.newPage();
      const seen: string[] = [];
      problems.set(page, seen);
      page.on('pageerror', (error) => seen.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') seen.push(message.text());
      });
      await page.goto(`${server.url}${path}#token=${TOKENS[who]}`);
      return page;
    },
    problems: (page) => problems.get(page) ?? [],
    async screenshot(page, name) {
      await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    },
    async expectAccessible(page, state) {
      const found = await accessibilityProblems(page);
      if (found.length > 0)
        await appendFile(join(screenshots, 'axe-violations.txt'), `${state}\n  ${found.join('\n  ')}\n`);
      expect.soft(found, state).toEqual([]);
    },
    close: () => chromium.close(),
  };
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<any> } })
      .axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return (result.violations as any[])
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map(
        (violation) =>
          `${violation.id}: ${violation.help} — ${violation.nodes
            .slice(0, 4)
            .map(
              (node: any) =>
                `${node.target.join(' ')} (${node.failureSummary?.split('\n')[1]?.trim() ?? ''})`,
            )
            .join('; ')}`,
      );
  });
}
