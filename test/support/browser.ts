import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium as playwrightChromium, type BrowserContext } from 'playwright-core';
import { describe, it } from 'vitest';

/**
 * Browser tests are required (they fail rather than skip when no Chromium is found) in CI, and
 * whenever BATON_CHROMIUM names a browser explicitly.
 */
export const BROWSER_REQUIRED =
  !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase()) || Boolean(process.env.BATON_CHROMIUM);

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium that playwright-core drives: BATON_CHROMIUM, else Debian's /usr/bin/chromium, else
 * `chromium` (or `chromium-browser`) on the PATH. Undefined when there is none.
 */
export function findChromium(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (env.BATON_CHROMIUM) return env.BATON_CHROMIUM;
  const candidates = [
    '/usr/bin/chromium',
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .flatMap((dir) => [join(dir, 'chromium'), join(dir, 'chromium-browser')]),
  ];
  return candidates.find(executable);
}

/**
 * `describe` for tests that drive a browser: runs them when a Chromium is found, passing its path;
 * otherwise fails one test naming the problem when a browser is required, and skips them (the
 * reason in the suite's name) when it is not.
 */
export function describeBrowser(name: string, body: (chromium: string) => void): void {
  const chromium = findChromium();
  if (chromium !== undefined) {
    describe(name, () => body(chromium));
  } else if (BROWSER_REQUIRED) {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(
          'No Chromium found (BATON_CHROMIUM, /usr/bin/chromium, chromium on PATH). Install it (apt-get install chromium) or set BATON_CHROMIUM.',
        );
      });
    });
  } else {
    describe.skip(`${name} (skipped: no Chromium at /usr/bin/chromium or on PATH; install it, or set CI or BATON_CHROMIUM to make this a failure)`, () =>
      body('chromium'));
  }
}

/** A headless Chromium on a fresh profile; `close` closes it and removes the profile. */
export interface LaunchedChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches the Chromium at `chromiumPath` headless on a profile in a fresh temporary directory
 * (or at `profile`, left for its owner to remove), with the flags every browser test uses.
 */
export async function launchChromium(
  chromiumPath: string,
  options: { viewport?: { width: number; height: number }; profile?: string } = {},
): Promise<LaunchedChromium> {
  const profile = options.profile ?? (await mkdtemp(join(tmpdir(), 'baton-chromium-')));
  const context = await playwrightChromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    ...(options.viewport ? { viewport: options.viewport } : {}),
  });
  return {
    context,
    async close() {
      await context.close();
      if (options.profile === undefined) await rm(profile, { recursive: true, force: true });
    },
  };
}
