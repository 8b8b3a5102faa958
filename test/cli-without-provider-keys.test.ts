import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baton, agent, workflow } from '../src/index.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { batonSource as source, cliProject } from './support/cli-project.ts';

// A project whose config names a real model (`openai:gpt-4.1-mini`) and whose machine has no
// OPENAI_API_KEY: every command that only reads the journal works; a key is needed only to call it.

const CONFIG = `
import { agent, defineConfig, workflow } from ${JSON.stringify(source)};

const definer = agent({
  name: 'definer',
  description: 'Defines words',
  instructions: 'Define the word.',
  model: 'openai:gpt-4.1-mini',
});

export const define = workflow('define', async (ctx, input) => {
  const word = await ctx.step('normalise', () => String(input.word).toLowerCase());
  return ctx.runAgent(definer, 'Define ' + word);
});

export default defineConfig({ store: 'sqlite:./keyless.db', workflows: [define] });
`;

const project = cliProject('baton-cli-keyless-', { 'baton.config.ts': CONFIG });
const { cli } = project;
const savedKey = process.env.OPENAI_API_KEY;
let runId: string;

beforeAll(async () => {
  delete process.env.OPENAI_API_KEY;
  // The run was made elsewhere (a machine with a model): the same workflow and agent, on a script.
  const definer = agent({
    name: 'definer',
    description: 'Defines words',
    instructions: 'Define the word.',
    model: scriptedModel([{ reasoning: 'Short words are best.', text: 'A relay stick.' }]),
  });
  const define = workflow('define', async (ctx, input: { word: string }) => {
    const word = await ctx.step('normalise', () => String(input.word).toLowerCase());
    return ctx.runAgent(definer, 'Define ' + word);
  });
  const baton = await Baton.open({ store: `sqlite:${join(project.dir, 'keyless.db')}`, workflows: [define] });
  try {
    const run = await baton.start(define, { word: 'Baton' }, { as: 'user:alice' });
    expect(await run.result()).toBe('A relay stick.');
    runId = run.runId;
  } finally {
    await baton.close();
  }
});
afterAll(() => {
  if (savedKey !== undefined) process.env.OPENAI_API_KEY = savedKey;
});

describe('read commands with a real model in the config and no API key', () => {
  it('runs, show, history and explain read the run', async () => {
    expect(process.env.OPENAI_API_KEY).toBeUndefined();
    const runs = await cli(['runs']);
    expect(runs.stderr).toBe('');
    expect(runs.code).toBe(0);
    expect(runs.stdout).toContain(runId);
    const show = await cli(['show', runId]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('completed');
    const history = await cli(['history', runId]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain('llm.called');
    const explain = await cli(['explain', runId]);
    expect(explain.code, explain.stderr).toBe(0);
    expect(explain.stdout).toContain('agent definer');
  });

  it('verify and replay (the config’s code, the recorded answers) need no key', async () => {
    const verify = await cli(['verify', runId]);
    expect(verify.stderr).not.toContain('OPENAI_API_KEY');
    expect(verify.stdout).toContain(`Run ${runId}`);
    const replay = await cli(['replay', runId]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`Replayed run ${runId} (define, `);
    expect(replay.stdout + replay.stderr).not.toContain('OPENAI_API_KEY');
  });

  it('a run that calls the model fails at that call, naming the variable', async () => {
    const started = await cli(['start', 'define', '--input', '{"word":"relay"}', '--json']);
    expect(started.code).toBe(1);
    expect(started.stdout + started.stderr).toContain('OPENAI_API_KEY');
    const { runs } = JSON.parse((await cli(['runs', '--json'])).stdout) as { runs: { status: string }[] };
    expect(runs.map((run) => run.status).sort()).toEqual(['completed', 'failed']);
  });
});
