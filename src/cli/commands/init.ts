import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.ts';
import { defineCommand } from '../command.ts';

/** This package's root (from src/cli/commands/ and from dist/cli/commands/ alike). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The project `baton init` writes: examples/quickstart, which a test installs and runs. */
const TEMPLATE = join(PACKAGE_ROOT, 'examples', 'quickstart');
const FILES = ['baton.config.ts', 'workflows.ts', 'app.ts', 'README.md'];

export const init = defineCommand({
  name: 'init',
  summary: 'Write a new project: package.json, baton.config.ts, a workflow with an agent, app.ts',
  args: [{ name: 'dir', required: false, description: 'Where to write it (default: here)' }],
  details:
    'The project is examples/quickstart: a workflow with a step and an agent that calls a tool, offline\n' +
    'unless OPENAI_API_KEY is set. Then: npm install && npm start. Existing files are never overwritten.',
  async run({ args, cwd, out, json }) {
    const dir = resolve(cwd, args.dir ?? '.');
    const taken = ['package.json', ...FILES].filter((file) => existsSync(join(dir, file)));
    if (taken.length > 0) {
      throw new ConfigError(
        `${dir} already has ${taken.join(', ')}; baton init writes a new project. Name an empty folder: baton init my-app.`,
      );
    }
    await mkdir(dir, { recursive: true });
    const template = JSON.parse(await readFile(join(TEMPLATE, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const manifest = {
      ...template,
      name:
        basename(dir)
          .toLowerCase()
          .replace(/[^a-z0-9._-]+/g, '-') || 'baton-app',
      dependencies: { ...template.dependencies, baton: await batonDependency(dir) },
    };
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const file of FILES) await copyFile(join(TEMPLATE, file), join(dir, file));
    const written = ['package.json', ...FILES];
    if (json) {
      out.json({ dir, files: written });
      return;
    }
    out.line(`Wrote ${written.join(', ')} in ${dir}.`);
    const into = relative(cwd, dir);
    const shown = /\s/.test(into) ? JSON.stringify(into) : into;
    out.line(`Next: ${into ? `cd ${shown} && ` : ''}npm install && npm start   (then: npx baton runs)`);
  },
});

/**
 * A published Baton (inside node_modules) is depended on by version; a checkout by its path, as
 * examples/quickstart does.
 */
async function batonDependency(dir: string): Promise<string> {
  if (PACKAGE_ROOT.split(sep).includes('node_modules')) {
    const { version } = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    return `^${version}`;
  }
  return `file:${relative(dir, PACKAGE_ROOT) || '.'}`;
}
