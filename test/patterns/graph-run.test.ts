import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { NonRetryableError, RunFailedError, workflow, type WorkflowContext } from '../../src/index.ts';
import { graph, graphWorkflow } from '../../src/patterns/graph.ts';
import { GraphFailedError } from '../../src/patterns/pattern-errors.ts';
import { harnessesClosedAfterEach, parked } from '../support/harness.ts';
import { ofType } from '../support/journal-events.ts';

const { openBaton } = harnessesClosedAfterEach();

/** An ordering log the test can wait on: no clocks, only the order things happened in. */
function orderingLog() {
  const entries: string[] = [];
  const emitter = new EventEmitter();
  return {
    entries,
    add(entry: string): void {
      entries.push(entry);
      emitter.emit('entry', entry);
    },
    until(entry: string): Promise<void> {
      if (entries.includes(entry)) return Promise.resolve();
      return new Promise((resolve) => {
        const listener = (added: string): void => {
          if (added !== entry) return;
          emitter.off('entry', listener);
          resolve();
        };
        emitter.on('entry', listener);
      });
    },
  };
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('graph run', () => {
  it('starts each node as soon as its own dependencies are done', async () => {
    const log = orderingLog();
    const gates = { a: gate(), b: gate() };
    const node =
      (id: string, wait?: Promise<void>) => async (ctx: WorkflowContext, inputs: Record<string, unknown>) =>
        ctx.step(id, async () => {
          log.add(`${id}:start`);
          await wait;
          log.add(`${id}:end`);
          return [id, ...Object.keys(inputs).sort()].join('<');
        });
    const diamond = graph('diamond', {
      nodes: {
        a: { run: node('a', gates.a.opened) },
        b: { run: node('b', gates.b.opened) },
        c: { deps: ['a'], run: node('c') },
        d: { deps: ['b'], run: node('d') },
        e: { deps: ['c', 'd'], run: node('e') },
      },
    });
    const baton = await openBaton({ workflows: [graphWorkflow(diamond)] });
    const run = await baton.start('diamond', null);

    await Promise.all([log.until('a:start'), log.until('b:start')]);
    gates.b.open();
    await log.until('d:end');
    // d ran to its end while a was still running: it did not wait for a's level.
    expect(log.entries).not.toContain('a:end');
    expect(log.entries).not.toContain('c:start');
    gates.a.open();

    expect(await run.result()).toEqual({
      outputs: { a: 'a', b: 'b', c: 'c<a', d: 'd<b', e: 'e<c<d' },
      skipped: [],
    });
    const order = log.entries;
    expect(order.indexOf('c:start')).toBeGreaterThan(order.indexOf('a:end'));
    expect(order.indexOf('e:start')).toBeGreaterThan(
      Math.max(order.indexOf('c:end'), order.indexOf('d:end')),
    );

    const history = await run.history();
    expect(ofType(history, 'graph.started')[0]!.payload).toMatchObject({
      name: 'diamond',
      nodes: expect.arrayContaining([{ id: 'e', deps: ['c', 'd'] }]),
    });
    const started = ofType(history, 'graph.node.started').map(
      (event) => (event.payload as { node: string }).node,
    );
    expect(started.slice(0, 2).sort()).toEqual(['a', 'b']);
    expect(started.indexOf('d')).toBeLessThan(started.indexOf('c'));
    expect(ofType(history, 'graph.node.completed')).toHaveLength(5);
    expect(ofType(history, 'graph.completed')[0]!.payload).toMatchObject({
      completed: ['a', 'b', 'c', 'd', 'e'],
      skipped: [],
    });
  });

  it('follows conditional edges: a false condition skips the node and, unless they opt in, its dependents', async () => {
    const ran: string[] = [];
    const record = (id: string) => async (_ctx: WorkflowContext, inputs: Record<string, unknown>) => {
      ran.push(id);
      return { id, saw: Object.keys(inputs).sort() };
    };
    const triage = graph('triage', {
      nodes: {
        classify: { run: async (_ctx, _inputs, input: { urgent: boolean }) => (ran.push('classify'), input) },
        page: { deps: ['classify'], when: ({ classify }) => classify.urgent, run: record('page') },
        escalate: { deps: ['page'], run: record('escalate') },
        log: { deps: ['page', 'classify'], optionalDeps: ['page'], run: record('log') },
      },
    });
    const baton = await openBaton({ workflows: [graphWorkflow(triage)] });
    const run = await baton.start('triage', { urgent: false });
    const result = (await run.result()) as { outputs: Record<string, unknown>; skipped: string[] };
    expect(ran).toEqual(['classify', 'log']);
    expect(result.skipped).toEqual(['page', 'escalate']);
    expect(result.outputs.log).toEqual({ id: 'log', saw: ['classify'] });
    const skips = ofType(await run.history(), 'graph.node.skipped').map((event) => event.payload);
    expect(skips).toEqual([
      { op: 3, name: 'triage/page', graph: 'triage', node: 'page', reason: 'its condition was false' },
      {
        op: 4,
        name: 'triage/escalate',
        graph: 'triage',
        node: 'escalate',
        reason: "its dependency 'page' was skipped",
      },
    ]);

    ran.length = 0;
    const urgent = await baton.start('triage', { urgent: true });
    expect(((await urgent.result()) as { skipped: string[] }).skipped).toEqual([]);
    expect(ran.sort()).toEqual(['classify', 'escalate', 'log', 'page']);
  });

  it('fails with the failed node named; dependents do not start, running nodes finish', async () => {
    const log = orderingLog();
    const slow = gate();
    const flaky = graph('flaky', {
      nodes: {
        slow: {
          run: async (ctx) =>
            ctx.step('slow', async () => (log.add('slow:start'), await slow.opened, log.add('slow:end'), 1)),
        },
        bad: {
          run: async (ctx) =>
            ctx.step('bad', async () => {
              await log.until('slow:start');
              throw new NonRetryableError('disk full');
            }),
        },
        after: { deps: ['bad'], run: async () => log.add('after:start') },
        afterSlow: { deps: ['slow'], run: async () => log.add('afterSlow:start') },
      },
    });
    const wrapper = workflow('flaky-wrapper', async (ctx) => {
      try {
        return await flaky.run(ctx, null);
      } catch (error) {
        if (!(error instanceof GraphFailedError)) throw error;
        return { graph: error.graph, failed: Object.keys(error.failures), message: error.message };
      }
    });
    const baton = await openBaton({ workflows: [wrapper] });
    const run = await baton.start(wrapper, null);
    // Let 'bad' fail for good (its step.failed is committed) while 'slow' is still running; then let 'slow' finish.
    const history = async () => run.history();
    while (ofType(await history(), 'step.failed').length === 0)
      await new Promise((resolve) => setTimeout(resolve, 5));
    slow.open();
    const result = (await run.result()) as { graph: string; failed: string[]; message: string };
    expect(result.graph).toBe('flaky');
    expect(result.failed).toEqual(['bad']);
    expect(result.message).toContain("at node 'bad' (StepFailedError");
    expect(log.entries).toEqual(['slow:start', 'slow:end']);
    const events = await history();
    expect(
      ofType(events, 'graph.node.completed').map((event) => (event.payload as { node: string }).node),
    ).toEqual(['slow']);
    expect(ofType(events, 'graph.failed')[0]!.payload).toMatchObject({
      failed: ['bad'],
      completed: ['slow'],
      skipped: [],
    });
  });

  it('on resume takes the journaled decisions: conditions are not evaluated again', async () => {
    let flag = true;
    const evaluated: string[] = [];
    const ran: string[] = [];
    const conditional = graph('conditional', {
      nodes: {
        start: { run: async (ctx) => ctx.step('start', () => (ran.push('start'), 'S')) },
        yes: {
          deps: ['start'],
          when: () => (evaluated.push('yes'), flag),
          run: async (ctx) => ctx.step('yes', () => (ran.push('yes'), 'Y')),
        },
        no: {
          deps: ['start'],
          when: () => (evaluated.push('no'), !flag),
          run: async (ctx) => ctx.step('no', () => (ran.push('no'), 'N')),
        },
        wait: { deps: ['yes'], run: async (ctx) => ctx.waitFor<string>('resume') },
        end: {
          deps: ['wait', 'no'],
          optionalDeps: ['no'],
          run: async (ctx, inputs) =>
            ctx.step('end', () => (ran.push('end'), `${inputs.wait}:${inputs.no ?? '-'}`)),
        },
      },
    });
    const baton = await openBaton({ workflows: [graphWorkflow(conditional)] });
    const run = await baton.start('conditional', null);
    await parked(baton, run.runId);
    expect(evaluated.sort()).toEqual(['no', 'yes']);

    flag = false; // Evaluated again, the conditions would now take the other branch.
    await baton.signal(run.runId, 'resume', 'R');
    expect(await run.result()).toEqual({
      outputs: { start: 'S', yes: 'Y', wait: 'R', end: 'R:-' },
      skipped: ['no'],
    });
    expect(evaluated.sort()).toEqual(['no', 'yes']);
    expect(ran).toEqual(['start', 'yes', 'end']);
    const history = await run.history();
    expect(ofType(history, 'graph.node.started')).toHaveLength(4);
    expect(ofType(history, 'graph.node.skipped')).toHaveLength(1);
    expect(ofType(history, 'graph.completed')).toHaveLength(1);
  });

  it('on resume starts nodes again in the order they first started, not the order replay finishes them', async () => {
    const log = orderingLog();
    const slowA = gate();
    const step = (id: string, wait?: Promise<void>) => async (ctx: WorkflowContext) =>
      ctx.step(id, async () => {
        await wait;
        log.add(id);
        return id;
      });
    // Live, b finishes long before a, so d starts (and takes its op) before c. On replay a's and b's
    // steps are answered from the journal at once, a first: c must still wait for d.
    const race = graph('race', {
      nodes: {
        a: { run: step('a', slowA.opened) },
        b: { run: step('b') },
        c: { deps: ['a'], run: step('c') },
        d: { deps: ['b'], run: step('d') },
        park: {
          deps: ['c', 'd'],
          run: async (ctx, inputs) => `${await ctx.waitFor<string>('go')}:${inputs.c}${inputs.d}`,
        },
      },
    });
    const baton = await openBaton({ workflows: [graphWorkflow(race)] });
    const run = await baton.start('race', null);
    await log.until('d');
    slowA.open();
    await parked(baton, run.runId);
    expect(log.entries).toEqual(['b', 'd', 'a', 'c']);
    await baton.signal(run.runId, 'go', 'went');
    expect(await run.result()).toMatchObject({ outputs: { park: 'went:cd' } });
    expect(log.entries).toEqual(['b', 'd', 'a', 'c']);
  });

  it('runs inside a workflow among other ctx calls', async () => {
    const inner = graph('inner', {
      nodes: {
        one: { run: async (ctx, _inputs, input: number) => ctx.step('one', () => input + 1) },
        two: { deps: ['one'], run: async (ctx, { one }) => ctx.step('two', () => (one as number) * 10) },
      },
    });
    const outer = workflow('outer', async (ctx, input: number) => {
      const before = await ctx.step('before', () => input);
      const { outputs } = await inner.run(ctx, before);
      return ctx.step('after', () => String(outputs.two));
    });
    const baton = await openBaton({ workflows: [outer] });
    const run = await baton.start(outer, 4);
    expect(await run.result()).toBe('50');
  });

  it('a graph workflow that fails fails its run with the node named', async () => {
    const failing = graph('failing', {
      nodes: {
        only: {
          run: async () => {
            throw new Error('nope');
          },
        },
      },
    });
    const baton = await openBaton({ workflows: [graphWorkflow(failing)] });
    const run = await baton.start('failing', null);
    const error = await run.result().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).error).toMatchObject({
      code: 'GRAPH_FAILED',
      message: "Graph 'failing' failed at node 'only' (Error: nope); nodes depending on it did not start.",
    });
  });

  it('replays a failed graph whose dependents never started, without calling them past the history', async () => {
    const ran: string[] = [];
    const halted = graph('halted', {
      nodes: {
        broken: {
          run: (ctx) =>
            ctx.step(
              'broken',
              (): string => {
                ran.push('broken');
                throw new Error('nope');
              },
              { retry: { maxAttempts: 1 } },
            ),
        },
        after: { deps: ['broken'], run: (ctx) => ctx.step('after', () => (ran.push('after'), 'x')) },
      },
    });
    const baton = await openBaton({ workflows: [graphWorkflow(halted)] });
    const run = await baton.start('halted', null);
    await run.result().catch(() => undefined);
    expect(await baton.replay(run.runId)).toMatchObject({ ok: true, recorded: 'failed', replayed: 'failed' });
    expect(ran).toEqual(['broken']);
  });
});
