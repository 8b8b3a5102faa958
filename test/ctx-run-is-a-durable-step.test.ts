import { describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach();

describe('ctx.run is a durable step (Restate ctx.run, DBOS runStep)', () => {
  it('journals its result as ctx.step does and, on replay after a sleep, returns it without running again', async () => {
    const calls = { run: 0, step: 0 };
    const seen: unknown[] = [];
    const flow = workflow('run-as-step', async (ctx) => {
      const drawn = await ctx.run('draw', () => {
        calls.run++;
        return { value: Math.random() };
      });
      const stepped = await ctx.step('twice', () => {
        calls.step++;
        return drawn.value * 2;
      });
      seen.push(drawn);
      await ctx.sleep('1h');
      return { drawn, stepped };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    h.advance(60 * 60 * 1000);
    const result = await run.result();

    expect(calls).toEqual({ run: 1, step: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(result).toEqual({ drawn: seen[0], stepped: (seen[0] as { value: number }).value * 2 });
    const events = await run.history();
    expect(types(events)).toEqual([
      'run.started',
      'step.completed',
      'step.completed',
      'timer.set',
      'timer.fired',
      'run.completed',
    ]);
    // The same event a ctx.step of that name writes: old journals replay unchanged.
    expect(events[1]!.payload).toMatchObject({ name: 'draw', result: drawn(result) });
    expect(events[2]!.payload).toMatchObject({ name: 'twice' });
  });

  it('is the engine’s own: a workflow without the layers has it too, retried as a step is', async () => {
    let attempts = 0;
    const flow = defineWorkflow('engine-run', async (ctx) =>
      ctx.run(
        'flaky',
        () => {
          attempts++;
          if (attempts < 2) throw new Error('not yet');
          return 'done';
        },
        { retry: { maxAttempts: 3, initialDelay: 0 } },
      ),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toBe('done');
    expect(attempts).toBe(2);
    expect(types(await run.history())).toEqual([
      'run.started',
      'step.attempt.failed',
      'step.completed',
      'run.completed',
    ]);
  });

  it('still runs an agent given one (the deprecated form), with the journal of ctx.runAgent', async () => {
    const greeter = (reply: string) =>
      agent({
        name: 'greeter',
        description: 'Greets people',
        instructions: 'Greet the user.',
        model: scriptedModel([reply]),
      });
    const old = workflow('greet-old', async (ctx) => ctx.run(greeter('Hello, Ada.'), 'Greet Ada'));
    const current = workflow('greet-new', async (ctx) => ctx.runAgent(greeter('Hello, Ada.'), 'Greet Ada'));
    const h = await start({ workflows: [old, current] });
    const oldRun = await h.baton.start(old, null);
    const currentRun = await h.baton.start(current, null);
    expect(await oldRun.result()).toBe('Hello, Ada.');
    expect(await currentRun.result()).toBe('Hello, Ada.');
    expect(types(await oldRun.history())).toEqual(types(await currentRun.history()));
    expect(types(await oldRun.history())).toEqual([
      'run.started',
      'agent.started',
      'llm.called',
      'agent.completed',
      'run.completed',
    ]);
  });
});

function drawn(result: { drawn: unknown }): unknown {
  return result.drawn;
}
