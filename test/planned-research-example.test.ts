import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { cleanupsAfterAll } from './support/cleanups.ts';
import { NODE } from './support/pinned-node.ts';

const ROOT = resolve(import.meta.dirname, '..');
const cleanup = cleanupsAfterAll();

async function runExample(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = await cleanup.directory('baton-planned-research-');
  return new Promise((done, reject) => {
    const child = spawn(
      NODE,
      [
        '--conditions=baton-source',
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'examples/planned-research/main.ts'),
        ...args,
      ],
      { cwd, env: { ...process.env, BATON_MODEL: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

it('the planned-research example plans its research from the request, re-plans around a dead service, and loops its review', async () => {
  const { code, stdout, stderr } = await runExample([]);
  expect(code, stderr).toBe(0);
  expect(stdout).toContain('plan research (completed) planned by agent:planner');
  expect(stdout).toContain(
    '✓ costs → library   ✓ emissions → library   ✓ risks → library   ✗ fleet → statistics',
  );
  expect(stdout).toContain("replaces revision 0 (seq 6): task 'fleet' failed");
  expect(stdout).toContain('kept: costs, emissions, risks');
  expect(stdout).toContain('✓ fleet-archive → library');
  expect(stdout).toContain('review → revise  taken 1 of at most 2');
  expect(stdout).toContain('Brief (revised: sources cited)');
  expect(stdout).toContain('(emissions.md)');
  expect(stdout).toMatch(/\d+ events, hash chain verified/);

  // Another request, another plan.
  const other = await runExample(['What would battery buses cost us, and how would we fund them?']);
  expect(other.code, other.stderr).toBe(0);
  expect(other.stdout).toContain('✓ costs → library   ✓ funding → library   ✗ fleet → statistics');
  expect(other.stdout).not.toContain('emissions → library');
});
