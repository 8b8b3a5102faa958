import { describe, expect, it } from 'vitest';
import {
  agent,
  InvalidArgumentError,
  NonRetryableError,
  StepFailedError,
  workflow,
  type WorkflowContext,
} from '../../src/index.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { sequential } from '../../src/patterns/sequential.ts';
import { harnessesClosedAfterEach } from '../support/harness.ts';
import { ofType } from '../support/journal-events.ts';

const { openBaton } = harnessesClosedAfterEach();

describe('sequential', () => {
  it('passes each output to the next stage and journals the plan', async () => {
    const pipeline = workflow('pipeline', async (ctx, topic: string) =>
      sequential<string>(
        ctx,
        [
          async function research(inner: WorkflowContext, text: string) {
            return inner.step('research', () => `notes on ${text}`);
          },
          {
            name: 'draft',
            run: async (inner: WorkflowContext, notes: string) =>
              inner.step('draft', () => `draft from ${notes}`),
          },
          async (_inner: WorkflowContext, draft: string) => draft.toUpperCase(),
        ],
        topic,
        { name: 'article' },
      ),
    );
    const baton = await openBaton({ workflows: [pipeline] });
    const run = await baton.start(pipeline, 'otters');
    expect(await run.result()).toBe('DRAFT FROM NOTES ON OTTERS');
    const history = await run.history();
    expect(ofType(history, 'sequence.started')[0]!.payload).toEqual({
      op: 1,
      name: 'article',
      stages: ['research', 'draft', 'stage-3'],
    });
    expect(ofType(history, 'sequence.completed')[0]!.payload).toEqual({ op: 1, name: 'article' });
  });

  it('stops at a failing stage, journals which and why, and rethrows its error', async () => {
    const reached: string[] = [];
    const pipeline = workflow('broken-pipeline', async (ctx) => {
      try {
        await sequential(ctx, [
          {
            name: 'load',
            run: async (inner: WorkflowContext) => inner.step('load', () => (reached.push('load'), 1)),
          },
          {
            name: 'transform',
            run: async (inner: WorkflowContext) =>
              inner.step('transform', () => {
                throw new NonRetryableError('bad row 7');
              }),
          },
          { name: 'save', run: async () => reached.push('save') },
        ]);
        return 'finished';
      } catch (error) {
        return error instanceof StepFailedError ? `caught ${error.step}` : `other ${String(error)}`;
      }
    });
    const baton = await openBaton({ workflows: [pipeline] });
    const run = await baton.start(pipeline, null);
    expect(await run.result()).toBe('caught transform');
    expect(reached).toEqual(['load']);
    const [failed] = ofType(await run.history(), 'sequence.failed');
    expect(failed!.payload).toMatchObject({
      name: 'sequence',
      stage: 'transform',
      error: { name: 'StepFailedError' },
    });
  });

  it('chains agents: each answer is the next task', async () => {
    const researcher = agent({
      name: 'researcher',
      description: 'Finds facts',
      instructions: 'Research.',
      model: scriptedModel([(request) => `facts about ${request.lastUserText}`]),
    });
    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model: scriptedModel([(request) => `an article from ${request.lastUserText}`]),
    });
    const pipeline = workflow('agent-pipeline', async (ctx, topic: string) =>
      sequential<string>(ctx, [researcher, writer], topic),
    );
    const baton = await openBaton({ workflows: [pipeline] });
    const run = await baton.start(pipeline, 'otters');
    expect(await run.result()).toBe('an article from facts about otters');
    expect(ofType(await run.history(), 'sequence.started')[0]!.payload).toMatchObject({
      stages: ['researcher', 'writer'],
    });
  });

  it('refuses an empty or malformed plan before journaling anything', async () => {
    const checks = workflow('sequence-door', async (ctx) => {
      const messages: string[] = [];
      for (const stages of [[], [42], [{ name: 'a b', run: async () => 1 }]]) {
        await sequential(ctx, stages as never).catch((error: unknown) => {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          messages.push((error as Error).message);
        });
      }
      return messages;
    });
    const baton = await openBaton({ workflows: [checks] });
    const run = await baton.start(checks, null);
    expect(await run.result()).toEqual([
      "Sequence 'sequence' needs at least one stage.",
      "Stage 1 of sequence 'sequence' is not a function, an agent or { name, run }.",
      "Stage 1 of sequence 'sequence': the name 'a b' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'.",
    ]);
    expect(await run.history()).toHaveLength(2);
  });
});
