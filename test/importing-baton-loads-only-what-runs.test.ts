import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NODE } from './support/pinned-node.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

// Importing 'baton' for a workflow that uses no agent, no policies and no telemetry loads none of
// the AI SDK, OpenTelemetry, Cedar, the MCP SDK or cockatiel (circuit breakers): they are loaded
// when first used. Checked in a
// child process that records every module it resolves.

const probe = fileURLToPath(new URL('./fixtures/module-probe.ts', import.meta.url));
const cleanup = cleanupsAfterAll();

describe("importing 'baton'", () => {
  it('runs a workflow without agents without loading the AI SDK, OpenTelemetry, Cedar or MCP', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-probe-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const { stdout } = await promisify(execFile)(
      NODE,
      ['--conditions=baton-source', '--disable-warning=ExperimentalWarning', probe, dir],
      { env: { PATH: process.env.PATH ?? '' } },
    );
    expect(stdout).toContain('result "Hello, Ada."');
    const packages = stdout.split('packages\n')[1]!.trim().split('\n');
    // The probe saw what it loads (a probe that records nothing would pass anything).
    expect(packages).toContain('zod');
    const heavy = packages.filter((name) =>
      /^(ai|@ai-sdk\/.*|@opentelemetry\/.*|@cedar-policy\/.*|@modelcontextprotocol\/.*|cockatiel)$/.test(
        name,
      ),
    );
    expect(heavy).toEqual([]);
  });
});
