import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { batonSource as source, batonTestingSource as testing, cliProject } from './support/cli-project.ts';

/** A project whose agent answers from a script (the config module is loaded once per process). */
const CONFIG = `
import { agent, defineConfig, workflow } from ${JSON.stringify(source)};
import { scriptedModel } from ${JSON.stringify(testing)};

const model = scriptedModel(Array.from({ length: 50 }, () => ({ reasoning: 'Short words are best.', text: 'A relay stick.' })));
const definer = agent({ name: 'definer', description: 'Defines words', instructions: 'Define the word.', model });

export const define = workflow('define', async (ctx, input) => {
  const word = await ctx.step('normalise', () => String(input.word).toLowerCase());
  return ctx.runAgent(definer, 'Define ' + word);
});

export default defineConfig({ store: 'sqlite:./cli.db', workflows: [define] });
`;

/** Today's code: a new step before the agent, not guarded by ctx.patched. */
const CHANGED = `
import { workflow } from ${JSON.stringify(source)};
export const define = workflow('define', async (ctx, input) => {
  await ctx.step('audit', () => true);
  const word = await ctx.step('normalise', () => String(input.word).toLowerCase());
  return word;
});
`;

const project = cliProject('baton-cli-explain-', { 'baton.config.ts': CONFIG, 'changed.ts': CHANGED });
const { cli } = project;
let runId: string;
beforeAll(async () => {
  const started = await cli([
    'start',
    'define',
    '--input',
    '{"word":"Baton"}',
    '--as',
    'user:alice',
    '--json',
  ]);
  expect(started.code).toBe(0);
  runId = (JSON.parse(started.stdout) as { runId: string }).runId;
});

describe('baton explain', () => {
  it('prints the run as a tree within 100 columns', async () => {
    const result = await cli(['explain', runId]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^run ${runId} · define · completed`));
    expect(result.stdout).toContain('agent definer');
    expect(result.stdout).toContain('why (reasoning): Short words are best.');
    expect(result.stdout).toContain('decided: answer: A relay stick.');
    for (const line of result.stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('--json prints the explanation; --at starts from a seq; a bad seq is refused', async () => {
    const result = await cli(['explain', runId, '--json']);
    const explanation = JSON.parse(result.stdout) as { nodes: { title: string }[] };
    expect(explanation.nodes.map((node) => node.title)).toEqual(['step normalise', 'agent definer']);
    const at = JSON.parse((await cli(['explain', runId, '--at', '3', '--json'])).stdout) as {
      at: { seq: number };
      nodes: { title: string }[];
    };
    expect(at.at.seq).toBe(3);
    expect(at.nodes.map((node) => node.title)).toEqual(['agent definer']);
    const bad = await cli(['explain', runId, '--at', '999']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--at 999 is not one of them');
  });
});

describe('baton replay and export', () => {
  it('replays a run on the registered code with no divergence', async () => {
    const result = await cli(['replay', runId]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Replayed run ${runId} (define, `);
    expect(result.stdout).toContain('no divergence');
  });

  it('exports a history (json, ndjson) and replays it against a changed workflow file: exit 1 with the divergence', async () => {
    const file = join(project.dir, 'history.json');
    expect((await cli(['export', runId, '--format', 'json', '--out', file])).code).toBe(0);
    const document = JSON.parse(readFileSync(file, 'utf8')) as { kind: string; events: unknown[] };
    expect(document.kind).toBe('baton.history');
    const ndjson = await cli(['export', runId, '--format', 'ndjson']);
    expect(ndjson.stdout.trimEnd().split('\n')).toHaveLength(document.events.length + 1);

    const result = await cli(['replay', '--file', file, '--workflow-file', 'changed.ts']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('diverges (mismatch)');
    expect(result.stdout).toMatch(/where\s+seq 2/);
    expect(result.stdout).toMatch(/history holds\s+step 'normalise'/);
    expect(result.stdout).toMatch(/code asks for\s+step 'audit'/);

    const asJson = JSON.parse(
      (await cli(['replay', '--file', file, '--workflow-file', 'changed.ts', '--json'])).stdout,
    ) as { ok: boolean; divergence: { op: number } };
    expect(asJson).toMatchObject({ ok: false, divergence: { kind: 'mismatch', op: 1, seq: 2 } });
    expect((await cli(['export', runId, '--format', 'xml'])).code).toBe(2);
  });
});

describe('baton fork', () => {
  it('forks a run at a seq; the fork waits for a worker', async () => {
    const result = await cli([
      'fork',
      runId,
      '--at',
      '2',
      '--model',
      'definer=openai-compatible:http://127.0.0.1:9/v1#tiny',
      '--as',
      'user:ops',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const forked = JSON.parse(result.stdout) as { runId: string; from: { runId: string; seq: number } };
    expect(forked.from).toEqual({ runId, seq: 2 });
    const shown = JSON.parse((await cli(['show', forked.runId, '--json'])).stdout) as {
      run: { status: string; metadata: unknown };
    };
    expect(shown.run).toMatchObject({ status: 'pending', metadata: { forkOf: { runId, seq: 2 } } });
    const explained = (await cli(['explain', runId])).stdout;
    expect(explained).toContain(`forked to ${forked.runId} at seq 2 by user:ops`);
  });

  it('refuses without --at, and suggests the run meant', async () => {
    expect((await cli(['fork', runId])).code).toBe(2);
    const typo = `${runId.slice(0, -1)}${runId.endsWith('0') ? '1' : '0'}`;
    const result = await cli(['fork', typo, '--at', '2']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Did you mean ${runId}?`);
  });
});
