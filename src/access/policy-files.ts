import { glob } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { PolicyLoadError } from './access-errors.ts';

const GLOB = /[*?[\]{}]/;

/**
 * Expands policy file names and patterns (`policies/*.cedar`, `policies/**\/*.cedar`) against
 * `base` (the folder of baton.config.ts): absolute paths, each once, sorted within a pattern. A
 * plain name is kept whether or not it exists (reading it reports it); a pattern that matches no
 * file is a PolicyLoadError naming it.
 *
 * @example await resolvePolicyFiles(['policies/*.cedar'], dirname(configPath))
 */
export async function resolvePolicyFiles(patterns: readonly string[], base: string): Promise<string[]> {
  const files: string[] = [];
  const problems: { file: string; line: undefined; column: undefined; message: string }[] = [];
  for (const pattern of patterns) {
    if (!GLOB.test(pattern)) {
      files.push(isAbsolute(pattern) ? pattern : resolve(base, pattern));
      continue;
    }
    const matched: string[] = [];
    for await (const file of glob(pattern, { cwd: base }))
      matched.push(isAbsolute(file) ? file : resolve(base, file));
    if (matched.length === 0) {
      problems.push({
        file: pattern,
        line: undefined,
        column: undefined,
        message: `matches no file in ${base}`,
      });
    }
    files.push(...matched.sort());
  }
  if (problems.length > 0) throw new PolicyLoadError({ problems });
  return [...new Set(files)];
}
