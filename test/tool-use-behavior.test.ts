import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import type { ToolUseBehavior } from '../src/agents/tool-use-behavior.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach();

const weather = tool({
  name: 'weather',
  description: 'The weather in a city',
  input: z.object({ city: z.string() }),
  effect: 'read',
  execute: ({ city }) => ({ city, sky: 'clear' }),
});

const submit = tool({
  name: 'report.submit',
  description: 'Submits the final report',
  input: z.object({ summary: z.string() }),
  effect: 'write',
  execute: ({ summary }) => ({ submitted: summary }),
});

/** A model that looks up the weather, then submits a report, then (if asked again) writes text. */
function forecaster(toolUseBehavior: ToolUseBehavior | undefined) {
  const model = scriptedModel([
    { toolCalls: [{ name: 'weather', args: { city: 'Oslo' } }] },
    { toolCalls: [{ name: 'report.submit', args: { summary: 'Oslo is clear' } }] },
    'All done.',
  ]);
  return {
    model,
    forecast: agent({
      name: 'forecaster',
      description: 'Forecasts',
      instructions: 'Forecast.',
      model,
      tools: [weather, submit],
      ...(toolUseBehavior === undefined ? {} : { toolUseBehavior }),
    }),
  };
}

async function runWith(toolUseBehavior: ToolUseBehavior | undefined) {
  const { model, forecast } = forecaster(toolUseBehavior);
  const flow = workflow('forecast', async (ctx) => ctx.runAgent(forecast, 'Report on Oslo'));
  const h = await start({ workflows: [flow] });
  const run = await h.baton.start(flow, {});
  const output = await run.result();
  const completed = of(await run.history(), 'agent.completed')[0]!;
  expect((await h.baton.replay(run.runId)).ok).toBe(true);
  return { output, modelCalls: model.calls.length, completed };
}

describe('toolUseBehavior', () => {
  it("'run_llm_again' (the default) sends every result back to the model", async () => {
    const { output, modelCalls, completed } = await runWith(undefined);
    expect(output).toBe('All done.');
    expect(modelCalls).toBe(3);
    expect(completed.payload.stoppedBy).toBeUndefined();
  });

  it("'stop_on_first_tool' ends the loop with the first tool's result, journaled", async () => {
    const { output, modelCalls, completed } = await runWith('stop_on_first_tool');
    expect(output).toEqual({ city: 'Oslo', sky: 'clear' });
    expect(modelCalls).toBe(1);
    expect(completed.payload.stoppedBy).toEqual({
      tool: 'weather',
      callId: expect.any(String),
      output: { city: 'Oslo', sky: 'clear' },
    });
  });

  it('stopAtToolNames ends the loop when one of those tools answers', async () => {
    const { output, modelCalls, completed } = await runWith({ stopAtToolNames: ['report.submit'] });
    expect(output).toEqual({ submitted: 'Oslo is clear' });
    expect(modelCalls).toBe(2);
    expect(completed.payload).toMatchObject({ turns: 2, stoppedBy: { tool: 'report.submit' } });
  });

  it('a function decides from the results, and its final output is the agent’s', async () => {
    const { output, modelCalls } = await runWith((results) =>
      results.some((result) => result.name === 'report.submit')
        ? {
            isFinalOutput: true,
            finalOutput: `filed: ${String((results[0]!.result as { submitted: string }).submitted)}`,
          }
        : { isFinalOutput: false },
    );
    expect(output).toBe('filed: Oslo is clear');
    expect(modelCalls).toBe(2);
  });

  it('refuses, at definition, names that are not the agent’s tools and unknown behaviours', () => {
    expect(() => forecaster({ stopAtToolNames: ['report.sumbit'] })).toThrow(
      /stopAtToolNames naming 'report.sumbit', which is not one of its tools \(weather, report.submit\)/,
    );
    expect(() => forecaster('stop_on_every_tool' as never)).toThrow(/toolUseBehavior "stop_on_every_tool"/);
  });
});
