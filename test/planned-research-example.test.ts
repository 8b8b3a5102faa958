import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { NODE } from './support/pinned-node.ts';

const ROOT = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function runExample(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'baton-planned-research-'));
  dirs.push(cwd);
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
