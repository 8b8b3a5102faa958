import { join } from 'node:path';
import { Baton } from '../src/baton.ts';
import type { WorkflowContext } from '../src/engine/context.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { graph, graphWorkflow } from '../src/patterns/graph.ts';
import { machine, machineWorkflow } from '../src/patterns/machine.ts';
import { plan, planWorkflow, type PlanSpec } from '../src/planning/plan.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, microsSince, type Figure } from './harness.ts';

const LEVELS = 4;
const WIDTH = 3;
const LOOPS = 12;

/** A plan of LEVELS × WIDTH tasks, each depending on the whole level before it. */
function shape(): { id: string; deps: string[] }[] {
  const tasks: { id: string; deps: string[] }[] = [];
  for (let level = 0; level < LEVELS; level++)
    for (let index = 0; index < WIDTH; index++)
      tasks.push({
        id: `t${level}-${index}`,
        deps: level === 0 ? [] : Array.from({ length: WIDTH }, (_, dep) => `t${level - 1}-${dep}`),
      });
  return tasks;
}

const work = (ctx: WorkflowContext, id: string) => ctx.step(id, () => id);

/** The same DAG written in code before the run: the baseline. */
const coded = graphWorkflow(
  graph('bench.plans.coded', {
    nodes: Object.fromEntries(
      shape().map((task) => [task.id, { deps: task.deps, run: (ctx) => work(ctx, task.id) }]),
    ),
  }),
);

/** The same DAG proposed by a planner at run time, checked, routed by capability, journaled. */
const planned = planWorkflow(
  plan('bench.plans.planned', {
    planner: (): PlanSpec => ({
      tasks: shape().map((task, index) => ({
        id: task.id,
        description: `Task ${task.id}`,
        deps: task.deps,
        // Half the tasks routed through the capability index, half named.
        ...(index % 2 === 0 ? { capability: 'compute the figures' } : { worker: 'writer' }),
      })),
    }),
    workers: {
      compute: { description: 'Computes the figures', run: (ctx, task) => work(ctx, task.id) },
      writer: { description: 'Writes the text', run: (ctx, task) => work(ctx, task.id) },
    },
    maxTasks: LEVELS * WIDTH,
  }),
);

/** LOOPS steps in a loop written as plain code: the baseline for a state machine. */
const looped = defineWorkflow('bench.plans.looped', async (ctx) => {
  for (let visit = 1; visit <= LOOPS; visit++) await ctx.step(`try-${visit}`, () => visit);
  return LOOPS;
});

const machined = machineWorkflow(
  machine('bench.plans.machine', {
    initial: 'try',
    states: {
      try: {
        run: (ctx, { visit }) => ctx.step(`try-${visit}`, () => visit),
        next: [
          { to: 'done', when: (visit: number) => visit >= LOOPS },
          { to: 'try', max: LOOPS },
        ],
      },
      done: {},
    },
  }),
);

/**
 * What planning at run time costs against the same graph written in code: a planner proposing a
 * 12-task plan (as a journaled step), the plan checked and half its tasks routed through the
 * capability index, the plan journaled, then the same 12 durable steps in 4 parallel levels. And a
 * bounded state machine of 12 states against a loop of 12 steps in plain code.
 */
export const plansFigure: Figure = {
  id: 'plans',
  title: 'Plans made at run time vs the same graph in code; a bounded state machine vs a plain loop (SQLite)',
  async run(bench) {
    const dir = bench.tempDir('plans');
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    const baton = await Baton.open({
      store,
      workflows: [coded, planned, looped, machined],
      worker: { concurrency: 1 },
    });
    const timed = async (definition: Parameters<Baton['start']>[0], input: unknown): Promise<number> => {
      const start = performance.now();
      const run = await baton.start(definition as never, input as never);
      await run.result();
      return microsSince(start) / 1000;
    };
    try {
      const samples = await interleave(
        {
          coded: () => timed(coded, null),
          planned: () => timed(planned, { goal: 'bench' }),
          looped: () => timed(looped, null),
          machined: () => timed(machined, null),
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const codedRun = measurement(
        `graph in code (${LEVELS * WIDTH} tasks, ${LEVELS} levels)`,
        'ms/run',
        samples.coded,
      );
      const plannedRun = measurement('plan made at run time (same graph)', 'ms/run', samples.planned);
      const loopRun = measurement(`loop in code (${LOOPS} steps)`, 'ms/run', samples.looped);
      const machineRun = measurement(`state machine (${LOOPS} states, bounded)`, 'ms/run', samples.machined);
      return {
        measurements: [codedRun, plannedRun, loopRun, machineRun],
        ratio: { label: 'plan made at run time / graph in code', value: plannedRun.value / codedRun.value },
        notes: [
          `state machine / plain loop: ${(machineRun.value / loopRun.value).toFixed(2)}×`,
          'The plan adds a journaled planner step, a check with capability routing for 6 tasks, and plan.* events.',
        ],
      };
    } finally {
      await baton.close();
      await store.close();
    }
  },
};
