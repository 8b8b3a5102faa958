import { describe, expect, it } from 'vitest';
import { batonSource as source, batonTestingSource as testing, cliProject } from './support/cli-project.ts';

/** A workflow whose agent answers in small tokens, after a signal, so `follow` starts before the answer. */
const CONFIG = `
import { defineConfig, workflow, agent } from ${JSON.stringify(source)};
import { scriptedModel } from ${JSON.stringify(testing)};

const teller = agent({
  name: 'teller',
  description: 'Tells',
  instructions: 'Tell it.',
  model: scriptedModel(Array.from({ length: 4 }, () => 'Tokens arrive one by one.'), { chunkSize: 3 }),
});

const tell = workflow('tell', async (ctx) => {
  await ctx.waitFor('go');
  ctx.stream.write({ stage: 'telling' });
  return ctx.runAgent(teller, 'Tell me');
});

export default defineConfig({ store: 'sqlite:./follow.db', workflows: [tell] });
`;

const project = cliProject('baton-follow-', { 'baton.config.ts': CONFIG });
const { cli } = project;

describe('baton follow', () => {
  it("prints a run's journal and its model's text as it streams from a worker, until the run finishes", async () => {
    const started = await cli(['start', 'tell', '--detach', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const runId = JSON.parse(started.stdout).runId as string;
    const following = cli(['follow', runId]);
    const stopWorker = new AbortController();
    const worker = cli(['worker'], { signal: stopWorker.signal });
    expect((await cli(['signal', runId, 'go'])).code).toBe(0);
    const followed = await following;
    stopWorker.abort();
    await worker;
    expect(followed.code, followed.stdout + followed.stderr).toBe(0);
    const lines = followed.stdout.split('\n');
    expect(lines[0]).toBe(`Following run ${runId} (tell); Ctrl-C stops following.`);
    expect(lines.find((line) => line.includes('teller:'))).toMatch(/^\s+teller: Tokens arrive one by one\.$/);
    expect(lines.find((line) => line.includes('progress'))).toContain('{"stage":"telling"}');
    const order = ['signal.received', 'teller:', 'llm.called', 'run.completed'].map((what) =>
      lines.findIndex((line) => line.includes(what)),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((index) => index > 0)).toBe(true);
    expect(lines).toContain(`Run ${runId} completed.`);
  });

  it('prints every part as a JSON line with its cursor, and resumes after one with --after', async () => {
    const started = await cli(['start', 'tell', '--detach', '--json']);
    const runId = JSON.parse(started.stdout).runId as string;
    await cli(['signal', runId, 'go']);
    const stopWorker = new AbortController();
    const worker = cli(['worker'], { signal: stopWorker.signal });
    const whole = await cli(['follow', runId, '--json']);
    stopWorker.abort();
    await worker;
    const parts = whole.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(parts.at(-1)).toMatchObject({ type: 'end', status: 'completed' });
    const text = parts
      .filter((part) => part.type === 'text-delta')
      .map((part) => part.delta)
      .join('');
    expect(text).toBe('Tokens arrive one by one.');
    const middle = parts.findIndex((part) => part.type === 'text-delta');
    const rest = await cli(['follow', runId, '--json', '--after', parts[middle].cursor]);
    expect(
      rest.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(parts.slice(middle + 1).filter((part) => part.type !== 'waiting'));
    const bad = await cli(['follow', runId, '--after', '1-1-zzzz']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('another run');
  });
});
