import { defineWorkflow } from '../src/engine/workflow.ts';
import { callModel } from './latency-model-server.ts';

/**
 * The workflows of the agent-shaped figures (bench/agent-scale-out.ts, bench/parked-runs.ts), shared
 * with their worker processes (bench/bench-worker.ts).
 */

/** Each step is one model call to the loopback server at `input.modelUrl`. */
export const agentSteps = defineWorkflow(
  'bench.agent-steps',
  async (ctx, input: { steps: number; modelUrl: string }) => {
    let answers = 0;
    for (let index = 0; index < input.steps; index++) {
      const answer = await ctx.step('model', ({ signal }) =>
        callModel(input.modelUrl, `Step ${index + 1}: what next?`, signal),
      );
      answers += answer.length > 0 ? 1 : 0;
    }
    return answers;
  },
);

/** Parks on a signal (holding no worker), then finishes with what it was sent. */
export const parkedOnSignal = defineWorkflow('bench.parked', async (ctx) => {
  const go = await ctx.waitFor<{ n: number }>('go');
  return go.n;
});
