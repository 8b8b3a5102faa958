import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NODE } from './pinned-node.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function newestSource(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return path.endsWith('.test.ts') ? 0 : info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestSource(join(path, entry)));
  return newest;
}

/**
 * Builds the package's JavaScript (dist/, what `import … from 'baton'` loads outside this
 * repository) with tsc when it is missing or older than src/, as `npm install` does through the
 * `prepare` script. Returns the repository's root.
 */
export async function ensurePackageBuilt(): Promise<string> {
  const entry = join(ROOT, 'dist', 'index.js');
  if (existsSync(entry) && (await stat(entry)).mtimeMs >= (await newestSource(join(ROOT, 'src'))))
    return ROOT;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(NODE, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT });
  return ROOT;
}
