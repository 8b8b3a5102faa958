import { describe, expect, it } from 'vitest';
import { batonSource as source, batonTestingSource as testing, cliProject } from './support/cli-project.ts';

// One vocabulary: the CLI's flags use the API's words (--payload, --reason; the old names still
// work, unlisted), `runs` takes the API's filters, --json times are ISO-8601, and `history` words
// agents' work as one line per event, cut to the terminal's width.

const CONFIG = `
import { agent, defineConfig, workflow } from ${JSON.stringify(source)};
import { scriptedModel } from ${JSON.stringify(testing)};

const reply = (request) =>
  request.toolResults.length === 0 ? { text: 'A relay stick, passed from runner to runner in a race of many legs.' } : 'x';
const definer = agent({
  name: 'definer',
  description: 'Defines words',
  instructions: 'Define the word.',
  model: scriptedModel(Array.from({ length: 20 }, () => reply)),
});

const define = workflow('define', async (ctx, input) => ctx.runAgent(definer, 'Define ' + input.word));
const waiter = workflow('waiter', async (ctx) => ctx.waitFor('go'));

export default defineConfig({ store: 'sqlite:./vocabulary.db', workflows: [define, waiter] });
`;

const project = cliProject('baton-cli-vocabulary-', { 'baton.config.ts': CONFIG });
const { cli } = project;

async function json<T = any>(args: string[]): Promise<T> {
  const result = await cli([...args, '--json']);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as T;
}

describe('the CLI speaks the API’s words', () => {
  it('history prints agent and model events as readable lines within the width; --json is raw', async () => {
    const { runId } = await json(['start', 'define', '--input', '{"word":"baton"}']);
    for (const columns of ['100', '60']) {
      const result = await cli(['history', runId], { env: { COLUMNS: columns } });
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines.find((line) => line.includes('agent.started'))).toContain('▸ agent');
      for (const line of lines.slice(1))
        expect(line.length).toBeLessThanOrEqual(Math.max(Number(columns), 100));
    }
    const wide = await cli(['history', runId], { env: { COLUMNS: '160' } });
    expect(wide.stdout).toContain('▸ agent definer (baton-testing:');
    for (const line of wide.stdout.trimEnd().split('\n').slice(1))
      expect(line.length).toBeLessThanOrEqual(160);
    expect(wide.stdout).toMatch(/✦ model call 1 → answer \d+\+\d+ tokens, \d+ ms/);
    const raw = await json(['history', runId]);
    expect(raw.events.find((event: { type: string }) => event.type === 'llm.called').payload.turn).toBe(1);
  });

  it('signal --payload and approve/deny --reason; the old --data and --comment still work, unlisted', async () => {
    const help = await cli(['signal', '--help']);
    expect(help.stdout).toContain('--payload <JSON>');
    expect(help.stdout).not.toContain('--data');
    const approveHelp = await cli(['approve', '--help']);
    expect(approveHelp.stdout).toContain('--reason <text>');
    expect(approveHelp.stdout).not.toContain('--comment');

    const first = await json(['start', 'waiter', '--detach']);
    expect((await cli(['signal', first.runId, 'go', '--payload', '{"n":1}'])).code).toBe(0);
    const second = await json(['start', 'waiter', '--detach']);
    expect((await cli(['signal', second.runId, 'go', '--data', '{"n":2}'])).code).toBe(0);
    const both = await cli(['signal', second.runId, 'go', '--data', '{}', '--payload', '{}']);
    expect(both.code).toBe(2);
    const shown = await json(['show', second.runId]);
    expect(shown.pendingSignals).toMatchObject([{ name: 'go', payload: { n: 2 } }]);
    expect(shown.pendingSignals[0].sentAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('runs takes the API’s filters: agent, since, until', async () => {
    const all = await json<{ runs: { runId: string; workflow: string; createdAt: string }[] }>(['runs']);
    expect(all.runs.length).toBeGreaterThanOrEqual(3);
    const byAgent = await json<{ runs: { workflow: string }[] }>(['runs', '--agent', 'definer']);
    expect(byAgent.runs.map((run) => run.workflow)).toEqual(['define']);
    const oldest = all.runs.at(-1)!;
    const until = await json<{ runs: unknown[] }>(['runs', '--until', oldest.createdAt]);
    expect(until.runs).toEqual([]);
    const since = await json<{ runs: unknown[] }>(['runs', '--since', oldest.createdAt]);
    expect(since.runs).toHaveLength(all.runs.length);
    const future = await json<{ runs: unknown[] }>([
      'runs',
      '--since',
      String(Date.parse(oldest.createdAt) + 3_600_000),
    ]);
    expect(future.runs).toEqual([]);
    const bad = await cli(['runs', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--since 'yesterday' is not a time");
  });
});
