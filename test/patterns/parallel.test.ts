import { describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import {
  agent,
  InvalidArgumentError,
  NonRetryableError,
  tool,
  workflow,
  type WorkflowContext,
} from '../../src/index.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import type { PartialFailurePolicy } from '../../src/journal/events.ts';
import { parallel } from '../../src/patterns/parallel.ts';
import { ParallelFailedError } from '../../src/patterns/pattern-errors.ts';
import { harnessesClosedAfterEach, parked } from '../support/harness.ts';
import { ofType } from '../support/journal-events.ts';

const { openBaton } = harnessesClosedAfterEach();

const ok = (value: string) => async (ctx: WorkflowContext) => ctx.step(`fetch-${value}`, () => value);
const broken = (name: string) => async (ctx: WorkflowContext) =>
  ctx.step(`fetch-${name}`, () => {
    throw new NonRetryableError(`${name} is down`);
  });

/** Runs three branches (two succeed, `c` fails) under a policy; returns what the workflow saw. */
async function underPolicy(policy: PartialFailurePolicy) {
  const fanOut = workflow('fan-out', async (ctx) => {
    try {
      const outcome = await parallel(
        ctx,
        { a: ok('A'), b: ok('B'), c: broken('c') },
        { name: 'research', onPartialFailure: policy },
      );
      return { ok: true, values: outcome.values, failed: outcome.failed, error: outcome.failures.c?.message };
    } catch (error) {
      if (!(error instanceof ParallelFailedError)) throw error;
      return {
        ok: false,
        message: error.message,
        failures: Object.keys(error.failures),
        succeeded: error.succeeded,
      };
    }
  });
  const baton = await openBaton({ workflows: [fanOut] });
  const run = await baton.start(fanOut, null);
  return { result: await run.result(), history: await run.history() };
}

describe('parallel', () => {
  it('fans out, combines, and journals each branch and the verdict', async () => {
    const fanOut = workflow('all-good', async (ctx) =>
      parallel(
        ctx,
        { a: ok('A'), b: ok('B') },
        { name: 'research', combine: ({ values }) => `${values.a}+${values.b}` },
      ),
    );
    const baton = await openBaton({ workflows: [fanOut] });
    const run = await baton.start(fanOut, null);
    expect(await run.result()).toBe('A+B');
    const history = await run.history();
    expect(ofType(history, 'parallel.started')[0]!.payload).toEqual({
      op: 1,
      name: 'research',
      branches: ['a', 'b'],
      policy: 'fail',
    });
    expect(ofType(history, 'parallel.branch.completed').map((event) => event.payload)).toEqual(
      expect.arrayContaining([
        { op: 2, name: 'research/a', parallel: 'research', branch: 'a' },
        { op: 3, name: 'research/b', parallel: 'research', branch: 'b' },
      ]),
    );
    expect(ofType(history, 'parallel.completed')[0]!.payload).toEqual({
      op: 1,
      name: 'research',
      succeeded: ['a', 'b'],
      failed: [],
      reason: 'all 2 branch(es) succeeded',
    });
  });

  it("'fail' fails the whole after every branch has ended, naming the failed branch", async () => {
    const { result, history } = await underPolicy('fail');
    expect(result).toMatchObject({ ok: false, failures: ['c'], succeeded: ['a', 'b'] });
    expect((result as { message: string }).message).toContain("failed under policy 'fail'");
    // The branches that could finish did, and each outcome is journaled.
    expect(ofType(history, 'parallel.branch.completed')).toHaveLength(2);
    expect(ofType(history, 'parallel.branch.failed')[0]!.payload).toMatchObject({
      branch: 'c',
      error: { name: 'StepFailedError', code: 'STEP_FAILED' },
    });
    expect(ofType(history, 'parallel.failed')[0]!.payload).toMatchObject({
      succeeded: ['a', 'b'],
      failed: ['c'],
      reason: "2 of 3 branch(es) succeeded; policy 'fail' allows no failure",
    });
  });

  it("'continue' goes on with what succeeded and reports what did not", async () => {
    const { result, history } = await underPolicy('continue');
    expect(result).toMatchObject({ ok: true, values: { a: 'A', b: 'B' }, failed: ['c'] });
    expect((result as { error: string }).error).toContain('c is down');
    expect(ofType(history, 'parallel.completed')[0]!.payload).toMatchObject({
      reason: "2 of 3 branch(es) succeeded; policy 'continue' goes on regardless",
    });
  });

  it('{ minSuccesses } goes on at the threshold and fails below it', async () => {
    const enough = await underPolicy({ minSuccesses: 2 });
    expect(enough.result).toMatchObject({ ok: true, values: { a: 'A', b: 'B' } });
    expect(ofType(enough.history, 'parallel.completed')[0]!.payload).toMatchObject({
      reason: '2 of 3 branch(es) succeeded, at least 2 required',
    });
    const short = await underPolicy({ minSuccesses: 3 });
    expect(short.result).toMatchObject({ ok: false, failures: ['c'] });
    expect(ofType(short.history, 'parallel.failed')[0]!.payload).toMatchObject({
      reason: '2 of 3 branch(es) succeeded, fewer than the 3 required',
    });
    expect(ofType(short.history, 'parallel.started')[0]!.payload).toMatchObject({
      policy: { minSuccesses: 3 },
    });
  });

  it('on replay keeps the journaled outcomes and runs no completed step again', async () => {
    const calls: string[] = [];
    const fanOut = workflow('replay-fan-out', async (ctx) => {
      const outcome = await parallel(
        ctx,
        {
          a: async (inner) => inner.step('a', () => (calls.push('a'), 'A')),
          b: async (inner) => inner.step('b', () => (calls.push('b'), 'B')),
        },
        { onPartialFailure: 'continue' },
      );
      const extra = await ctx.waitFor<string>('go');
      return { ...outcome.values, extra };
    });
    const baton = await openBaton({ workflows: [fanOut] });
    const run = await baton.start(fanOut, null);
    await parked(baton, run.runId);
    await baton.signal(run.runId, 'go', 'more');
    expect(await run.result()).toEqual({ a: 'A', b: 'B', extra: 'more' });
    expect(calls.sort()).toEqual(['a', 'b']);
    const history = await run.history();
    expect(ofType(history, 'parallel.branch.completed')).toHaveLength(2);
    expect(ofType(history, 'parallel.completed')).toHaveLength(1);
  });

  it('runs agents as branches, each given the input as its task', async () => {
    const researcher = (name: string) =>
      agent({
        name,
        description: name,
        instructions: 'Research.',
        model: scriptedModel([(request) => `${name} on ${request.lastUserText}`]),
      });
    const fanOut = workflow('agents-fan-out', async (ctx, question: string) =>
      parallel(
        ctx,
        { web: researcher('web'), docs: researcher('docs') },
        { input: question, combine: ({ values }) => [values.web, values.docs] },
      ),
    );
    const baton = await openBaton({ workflows: [fanOut] });
    const run = await baton.start(fanOut, 'otters');
    expect(await run.result()).toEqual(['web on otters', 'docs on otters']);
  });

  // Branches that make several ctx calls each (agents that call a tool, then the model again) ask
  // for their later ops in completion order; replay must hand results back in that same order.
  it('replays branches that each make several ctx calls, in the order they first finished', async () => {
    const wait = (ms: number) =>
      tool({
        name: `wait-${ms}`,
        description: 'Waits',
        input: z.object({}),
        effect: 'read',
        execute: async () => (await delay(ms), 'waited'),
      });
    const researcher = (name: string, ms: number) =>
      agent({
        name,
        description: name,
        instructions: 'Research.',
        tools: [wait(ms)],
        model: scriptedModel([{ toolCalls: [{ name: `wait-${ms}`, args: {} }] }, `${name} done`]),
      });
    const fanOut = workflow('agents-with-tools', async (ctx) => {
      const { values } = await parallel(ctx, { slow: researcher('slow', 50), fast: researcher('fast', 1) });
      await ctx.waitFor('go');
      return values;
    });
    const baton = await openBaton({ workflows: [fanOut] });
    const run = await baton.start(fanOut, null);
    await parked(baton, run.runId);
    await baton.signal(run.runId, 'go');
    expect(await run.result()).toEqual({ slow: 'slow done', fast: 'fast done' });
  });

  it('checks its policy and branches at the door', async () => {
    const checks = workflow('parallel-door', async (ctx) => {
      const messages: string[] = [];
      for (const [branches, policy] of [
        [{}, 'fail'],
        [{ a: ok('A') }, { minSuccesses: 2 }],
        [{ a: ok('A') }, 'sometimes'],
        [{ a: 'not runnable' }, 'fail'],
      ] as const) {
        await parallel(ctx, branches as never, { onPartialFailure: policy as never }).catch(
          (error: unknown) => {
            expect(error).toBeInstanceOf(InvalidArgumentError);
            messages.push((error as Error).message);
          },
        );
      }
      return messages;
    });
    const baton = await openBaton({ workflows: [checks] });
    const run = await baton.start(checks, null);
    expect(await run.result()).toEqual([
      "Parallel 'parallel' needs its branches as a non-empty object { name: branch }.",
      `Parallel 'parallel' has onPartialFailure {"minSuccesses":2}; use 'fail', 'continue' or { minSuccesses: n } with n from 1 to its 1 branches.`,
      `Parallel 'parallel' has onPartialFailure "sometimes"; use 'fail', 'continue' or { minSuccesses: n } with n from 1 to its 1 branches.`,
      "Branch 'a' of parallel 'parallel' is not a function or an agent.",
    ]);
    expect(await run.history()).toHaveLength(2); // run.started, run.completed
  });
});
