/**
 * Deeply nested JSON (depth 10,000 is about 20 KB of brackets) at every door: refused with
 * NESTING_TOO_DEEP before anything is journaled, never a stack overflow or a 500.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { BatonError, NestingTooDeepError } from '../src/errors.ts';
import { canonicalJson, MAX_JSON_DEPTH, nestsDeeperThan } from '../src/journal/canonical-json.ts';
import { batonSource, cliProject } from './support/cli-project.ts';
import { harness, harnessesClosedAfterEach, type Harness } from './support/harness.ts';
import { waiter } from './support/sample-workflows.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? { a: value } : [value];
  return value;
}

function nestedText(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

const echo = defineWorkflow('echo', async (_ctx, input: unknown) => input);

const { start } = harnessesClosedAfterEach();

async function open(options: { maxDepth?: number } = {}): Promise<Harness> {
  return start({ workflows: [echo, waiter], ...options });
}

async function refused(promise: Promise<unknown>): Promise<BatonError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(BatonError.isInstance(error), String(error)).toBe(true);
  return error as BatonError;
}

describe('nesting depth', () => {
  it('canonical JSON refuses a value deeper than its bound instead of exhausting the stack', () => {
    expect(() => canonicalJson(nested(10_000), 'The thing')).toThrow(NestingTooDeepError);
    expect(() => canonicalJson(nested(10_000), 'The thing')).toThrow(/more than 1000 levels deep/);
    expect(canonicalJson(nested(MAX_JSON_DEPTH))).toContain('bottom');
    expect(() => canonicalJson(nested(5), 'x', 4)).toThrow(NestingTooDeepError);
    expect(nestsDeeperThan(nested(10_000), 64)).toBe(true);
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(JSON.parse(nestedText(10_000)), 9_999)).toBe(true);
  });

  it('the library refuses a deep run input, signal payload and metadata with a clear error', async () => {
    const h = await open();
    for (const depth of [65, 10_000]) {
      const input = await refused(h.baton.start(echo, nested(depth)));
      expect(input.code).toBe('NESTING_TOO_DEEP');
      expect(input.message).toContain(
        "The input of workflow 'echo' nests objects and arrays more than 64 levels deep",
      );
      const metadata = await refused(h.baton.start(echo, 1, { metadata: { deep: nested(depth) } }));
      expect(metadata.code).toBe('NESTING_TOO_DEEP');
    }
    expect(await h.store.listRuns({})).toEqual([]);
    const run = await h.baton.start(waiter, { name: 'Ada' });
    const signal = await refused(h.baton.signal(run.runId, 'go', nested(10_000)));
    expect(signal.code).toBe('NESTING_TOO_DEEP');
    expect(signal.message).toContain("The payload of signal 'go'");
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
    // 64 levels are fine.
    expect(await (await h.baton.start(echo, nested(64))).result()).toEqual(nested(64));
  });

  it('the bound is configurable', async () => {
    const h = await open({ maxDepth: 200 });
    expect(await (await h.baton.start(echo, nested(150))).result()).toEqual(nested(150));
    expect((await refused(h.baton.start(echo, nested(201)))).message).toContain('(option maxDepth)');
    await expect(harness({ maxDepth: 100_000 })).rejects.toThrow(/maxDepth is a whole number from 1 to 1000/);
  });
});

describe('nesting depth at the HTTP door', () => {
  let server: TestServer;
  afterEach(async () => {
    await server?.close();
  });

  it('answers 400 NESTING_TOO_DEEP for a deep run input, signal payload or metadata', async () => {
    server = await startTestServer();
    const post = async (path: string, body: string) => {
      const response = await server.call(path, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      return {
        status: response.status,
        body: (await response.json()) as { error: { code: string; message: string } },
      };
    };
    const deep = nestedText(10_000);
    const input = await post('/api/runs', `{"workflow":"waiter","input":${deep}}`);
    expect(input.status).toBe(400);
    expect(input.body.error.code).toBe('NESTING_TOO_DEEP');
    expect(input.body.error.message).toContain("The input of workflow 'waiter'");
    const metadata = await post(
      '/api/runs',
      `{"workflow":"waiter","input":{"name":"x"},"metadata":{"deep":${deep}}}`,
    );
    expect(metadata.status).toBe(400);
    expect(metadata.body.error.code).toBe('NESTING_TOO_DEEP');
    const started = await post('/api/runs', '{"workflow":"waiter","input":{"name":"Ada"}}');
    expect(started.status).toBe(201);
    const runId = (started.body as unknown as { run: { runId: string } }).run.runId;
    const signal = await post(`/api/runs/${runId}/signals`, `{"name":"go","payload":${deep}}`);
    expect(signal.status).toBe(400);
    expect(signal.body.error.code).toBe('NESTING_TOO_DEEP');
  });
});

const project = cliProject('baton-depth-', {
  'baton.config.ts': `
import { defineConfig, workflow } from ${JSON.stringify(batonSource)};
const echo = workflow('echo', async (_ctx, input: unknown) => input);
export default defineConfig({ store: 'sqlite:./depth.db', workflows: [echo] });
`,
});

describe('nesting depth at the CLI', () => {
  it('baton start refuses a deep --input with the error, not a stack trace', async () => {
    const result = await project.cli(['start', 'echo', '--input', nestedText(10_000)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "error: The input of workflow 'echo' nests objects and arrays more than 64 levels deep",
    );
    expect(result.stderr).not.toContain('RangeError');
  });
});
