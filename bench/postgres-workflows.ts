import { defineWorkflow } from '../src/engine/workflow.ts';

/** The workflows of bench/postgres.ts, shared with its worker processes. */
export const tenStepsOnPostgres = defineWorkflow(
  'bench.pg.ten-steps',
  async (ctx, input: { steps: number }) => {
    let sum = 0;
    for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
    return sum;
  },
);

export const sequentialOnPostgres = defineWorkflow(
  'bench.pg.sequential',
  async (ctx, input: { steps: number }) => {
    let sum = 0;
    for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
    return sum;
  },
);
