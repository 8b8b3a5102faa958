import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const json = async (file: string) => JSON.parse(await readFile(join(ROOT, file), 'utf8'));

// `npm run docs:api` (TypeDoc, typedoc.json) documents the package's public surface: every sub-path
// export and nothing else. Generating takes a minute, so this checks the configuration; TypeDoc
// itself fails on warnings (treatWarningsAsErrors) when run.
describe('the API reference (npm run docs:api)', () => {
  it("documents exactly the package's exports", async () => {
    const pkg = (await json('package.json')) as {
      exports: Record<string, string | { 'baton-source'?: string }>;
    };
    const typedoc = (await json('typedoc.json')) as {
      entryPoints: string[];
      treatWarningsAsErrors?: boolean;
    };
    const exported = Object.values(pkg.exports)
      // The sources behind each export (`types` points to the built declarations).
      .map((target) => (typeof target === 'string' ? undefined : target['baton-source']))
      .filter((source): source is string => source !== undefined)
      .map((source) => source.replace(/^\.\//, ''));
    expect([...typedoc.entryPoints].sort()).toEqual(exported.sort());
    expect(typedoc.treatWarningsAsErrors).toBe(true);
  });

  it('builds the static site (npm run docs:build) from the same entry points and the whole guide', async () => {
    const site = (await json('typedoc.site.json')) as {
      extends: string[];
      projectDocuments: string[];
      readme: string;
    };
    expect(site.extends).toEqual(['./typedoc.json']);
    expect(site.readme).toBe('docs/README.md');
    expect(site.projectDocuments).toContain('docs/guide/*.md');
  });
});
