import { existsSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI = fileURLToPath(new URL('../../ui/', import.meta.url));
const DIST = join(UI, 'dist');

async function newestSource(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) {
    if (path === UI && (entry === 'dist' || entry.startsWith('.dist-'))) continue;
    newest = Math.max(newest, await newestSource(join(path, entry)));
  }
  return newest;
}

/**
 * Builds the web UI into ui/dist with Vite's JS API when it is missing or older than its sources,
 * so browser tests run on a fresh checkout with `npm test` alone. Builds into a scratch directory
 * and swaps it in, so a server reading ui/dist never sees half a build.
 */
export async function ensureUiBuilt(): Promise<string> {
  const index = join(DIST, 'index.html');
  if (existsSync(index) && (await stat(index)).mtimeMs >= (await newestSource(UI))) return DIST;
  const { build } = await import('vite');
  const scratch = join(UI, `.dist-${process.pid}-${Date.now()}`);
  try {
    await build({
      configFile: join(UI, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: scratch, emptyOutDir: true },
    });
    await rm(DIST, { recursive: true, force: true });
    await rename(scratch, DIST);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return DIST;
}
