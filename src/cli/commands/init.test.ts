import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/support/cli-project.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'quickstart');
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of cleanup.splice(0)) await close();
});

describe('baton init', () => {
  it('writes examples/quickstart as a new project that depends on this Baton, and never overwrites', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-init-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));

    const first = await runCli(['init', 'My App'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Next: cd "My App" && npm install && npm start');
    const project = join(dir, 'My App');
    for (const file of ['baton.config.ts', 'workflows.ts', 'app.ts', 'README.md']) {
      expect(readFileSync(join(project, file), 'utf8'), file).toBe(readFileSync(join(EXAMPLE, file), 'utf8'));
    }
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      name: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(manifest.name).toBe('my-app');
    expect(manifest.scripts.start).toBe('node app.ts');
    expect(manifest.dependencies).toEqual({
      baton: `file:${relative(project, ROOT)}`,
      zod: expect.any(String),
    });

    const again = await runCli(['init', 'My App', '--json'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ error: { code: 'CONFIG' } });
    expect(again.stderr).toContain('already has package.json, baton.config.ts');
    expect(readFileSync(join(project, 'package.json'), 'utf8')).toContain('"name": "my-app"');
  });
});
