import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { main } from '../../src/cli/main.ts';

/** Where Baton's entry points are, for a test project's `baton.config.ts` to import. */
export const batonSource = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
export const batonTestingSource = fileURLToPath(new URL('../../src/testing/index.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  /** The CLI's environment; empty unless given, so the machine's BATON_* variables stay out. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** Runs `baton <args>` in this process, as the bin would, and returns its exit code and output. */
export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd: options.cwd,
    env: options.env ?? {},
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, stdout, stderr };
}

/**
 * A fresh temporary folder (named from `prefix`) holding `files`, by path relative to it (parent
 * folders are made). The caller removes it.
 */
export function writeProject(prefix: string, files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, name)), { recursive: true });
    writeFileSync(join(directory, name), text);
  }
  return directory;
}

export interface CliProject {
  /** The project folder; there from `beforeAll` on. */
  readonly dir: string;
  /** Runs `baton <args>` in the project folder (or `options.cwd`). */
  cli: (args: string[], options?: Partial<CliOptions>) => Promise<CliResult>;
}

/**
 * A project for the tests of this file: written by {@link writeProject} in a `beforeAll` (so before
 * the hooks the file registers after this call) and removed in an `afterAll`. A config module is
 * imported once per process, so each test file that loads one wants its own project.
 */
export function cliProject(prefix: string, files: Record<string, string>): CliProject {
  let directory: string | undefined;
  beforeAll(() => {
    directory = writeProject(prefix, files);
  });
  afterAll(() => {
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });
  const project: CliProject = {
    get dir() {
      if (directory === undefined)
        throw new Error('The CLI project is written in beforeAll; use it from a hook or test.');
      return directory;
    },
    cli: (args, options = {}) => runCli(args, { ...options, cwd: options.cwd ?? project.dir }),
  };
  return project;
}
