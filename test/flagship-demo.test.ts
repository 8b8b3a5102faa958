import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';
import { NODE } from './support/pinned-node.ts';
import { expectReadersAgree } from './support/run-model-agreement.ts';

const ROOT = resolve(import.meta.dirname, '..');
const cleanup = cleanupsAfterAll();

function runDemo(
  cwd: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(
      NODE,
      [
        '--conditions=baton-source',
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'examples/demo/main.ts'),
        ...args,
      ],
      {
        cwd,
        env: {
          ...process.env,
          BATON_MODEL: '',
          BATON_SERVER_URL: 'http://127.0.0.1:9',
          BATON_DEMO_DIR: join(cwd, '.baton'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('the flagship demo (npm run demo)', () => {
  it('routes, researches in parallel, drafts, waits at the gate, publishes once, and verifies its journal', async () => {
    const cwd = await cleanup.directory('baton-demo-');
    const { code, stdout, stderr } = await runDemo(cwd);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('offline scripted models');
    expect(stdout).toMatch(/route triage → .*research/);
    expect(stdout).toContain('parallel research: 3 succeeded');
    expect(stdout).toContain('waiting for approval');
    expect(stdout).toContain('approved by user:editor');
    expect(stdout).toContain('hash chain verified');
    expect(stdout).toMatch(/signature\s+Ed25519 checkpoint through seq \d+/);
    expect(stdout).toMatch(/agents\s+6 runs, 11 model calls, 6 tool calls/);
    const outbox = join(cwd, '.baton/outbox');
    expect(existsSync(outbox)).toBe(true);
    const published = readdirSync(outbox);
    expect(published).toHaveLength(1);
    expect(readFileSync(join(outbox, published[0]!), 'utf8')).toContain('1,176,000 EUR');

    // Every reader (explain, telemetry, the step inspector, the cost reports, the UI's tree) tells
    // the demo's runs as the run model does: the parallel researchers' calls under their own agents.
    const store = await openStore(`sqlite:${join(cwd, '.baton/demo.db')}`, { create: false });
    try {
      const runs = await store.listRuns();
      expect(runs.length).toBeGreaterThan(0);
      for (const run of runs) await expectReadersAgree(await store.readEvents(run.runId, 1));
    } finally {
      await store.close();
    }

    // A second run is a new run (the journal keeps both) and publishes its own brief.
    const again = await runDemo(cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(outbox)).toHaveLength(2);
  });

  it('with a real model id and no key, fails before any run starts, naming the variable', async () => {
    const cwd = await cleanup.directory('baton-demo-');
    const { code, stdout, stderr } = await runDemo(cwd, [], {
      BATON_MODEL: 'openai:gpt-4.1-mini',
      OPENAI_API_KEY: '',
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain('OPENAI_API_KEY');
    expect(stdout).not.toContain('run research-brief started');
  });
});
