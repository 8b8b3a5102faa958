import { describe, expect, it } from 'vitest';
import { agent, plan, planSchema, planWorkflow, RunFailedError, tool, workflow } from '../../src/index.ts';
import type { PlanRequest, PlanSpec } from '../../src/patterns/index.ts';
import { block, pass } from '../../src/guard/index.ts';
import { explainEvents, formatExplanation } from '../../src/explain/index.ts';
import { formatPlans, plansOf } from '../../src/planning/plan-format.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { z } from 'zod';
import { harnessesClosedAfterEach, parked } from '../support/harness.ts';
import { ofType } from '../support/journal-events.ts';

const { openBaton } = harnessesClosedAfterEach();

const payload = <T>(event: { payload: unknown }): T => event.payload as T;

describe('plans made at run time', () => {
  it('plans a goal into parallel levels, routes by capability, and re-plans a failed task keeping what completed', async () => {
    const webModel = scriptedModel(['Sources: three studies on battery buses.']);
    const writerModel = scriptedModel([
      (request) => `Report from: ${request.lastUserText.length > 0 ? 'inputs' : ''}`,
    ]);
    const web = agent({
      name: 'web',
      description: 'Searches the web and reads articles to find sources',
      instructions: 'Find sources.',
      model: webModel,
    });
    const writer = agent({
      name: 'writer',
      description: 'Writes a report from research notes',
      instructions: 'Write.',
      model: writerModel,
    });
    const ran: string[] = [];
    const requests: PlanRequest[] = [];
    const planner = (request: PlanRequest): PlanSpec => {
      requests.push(request);
      if (request.revision === 0)
        return {
          tasks: [
            {
              id: 'sources',
              description: 'Find sources on battery buses',
              capability: 'search the web for sources and articles',
            },
            { id: 'figures', description: 'Get the fleet figures', worker: 'stats' },
            { id: 'report', description: 'Write the report', worker: 'writer', deps: ['sources', 'figures'] },
          ],
        };
      return {
        tasks: [
          { id: 'figures-archive', description: 'Get the fleet figures from the archive', worker: 'archive' },
          {
            id: 'report',
            description: 'Write the report',
            worker: 'writer',
            deps: ['sources', 'figures-archive'],
          },
        ],
      };
    };
    const research = plan('research', {
      planner,
      workers: {
        web,
        writer,
        stats: {
          description: 'Queries the live statistics service for fleet figures',
          run: async (ctx) =>
            ctx.step(
              'stats',
              () => {
                ran.push('stats');
                throw new Error('statistics service is down');
              },
              { retry: { maxAttempts: 1 } },
            ),
        },
        archive: {
          description: 'Reads fleet figures from the archive',
          run: async (ctx) => ctx.step('archive', () => (ran.push('archive'), { buses: 120 })),
        },
      },
      routing: { costBias: 0.2 },
    });
    const baton = await openBaton({ workflows: [planWorkflow(research)] });
    const run = await baton.start('research', { goal: 'Should the city buy battery buses?' });
    const result = (await run.result()) as { outputs: Record<string, unknown>; revision: number };

    expect(result.revision).toBe(1);
    expect(result.outputs.sources).toBe('Sources: three studies on battery buses.');
    expect(result.outputs['figures-archive']).toEqual({ buses: 120 });
    expect(typeof result.outputs.report).toBe('string');
    // The completed task ran once: the re-plan kept it.
    expect(webModel.calls).toHaveLength(1);
    expect(ran).toEqual(['stats', 'archive']);
    // The writer was given its dependencies' outputs explicitly.
    expect(JSON.stringify(writerModel.calls[0]!.prompt)).toContain('three studies');
    expect(JSON.stringify(writerModel.calls[0]!.prompt)).toContain('120');
    // The planner was told what completed and what failed.
    expect(requests[1]).toMatchObject({
      revision: 1,
      completed: [{ id: 'sources', output: 'Sources: three studies on battery buses.' }],
      failure: { task: 'figures' },
    });
    expect(requests[1]!.failure!.message).toContain('statistics service is down');

    const history = await run.history();
    const decided = ofType(history, 'plan.decided');
    expect(decided).toHaveLength(2);
    const first = payload<{
      levels: string[][];
      tasks: { id: string; assigned: string; candidates?: unknown[] }[];
    }>(decided[0]!);
    expect(first.levels).toEqual([['sources', 'figures'], ['report']]);
    expect(first.tasks.find((task) => task.id === 'sources')).toMatchObject({ assigned: 'web' });
    expect(first.tasks.find((task) => task.id === 'sources')!.candidates!.length).toBeGreaterThan(0);
    expect(payload(decided[1]!)).toMatchObject({
      revision: 1,
      kept: ['sources'],
      levels: [['figures-archive'], ['report']],
      replaces: { revision: 0, seq: decided[0]!.seq },
    });
    expect(payload<{ replaces: { reason: string } }>(decided[1]!).replaces.reason).toContain(
      "task 'figures' failed",
    );
    expect(ofType(history, 'plan.completed')).toHaveLength(1);
    // Replayed against the same code, the run reproduces its history without calling a model.
    const replayed = await baton.replay(run.runId);
    expect(replayed.divergence).toBeUndefined();
    expect(replayed).toMatchObject({ ok: true, replayed: 'completed' });
    expect(webModel.calls).toHaveLength(1);

    const explained = formatExplanation(explainEvents(history));
    expect(explained).toContain('plan research revision 0');
    expect(explained).toContain('plan research revision 1');
    expect(explained).toContain('replaces revision 0 (seq');
    expect(explained).toMatch(/sources → web: web is the best blend of similarity and cost/);
    expect(explained).toContain('completed sources, figures-archive, report after 1 revision(s)');

    const text = formatPlans(plansOf(history));
    expect(text).toContain('revision 1');
    expect(text).toContain('kept: sources');
    expect(text).toContain('✗ figures → stats');
    expect(text).toContain('✓ figures-archive → archive');
  });

  it('gives a planner agent the problems of its rejected proposal and runs the corrected one', async () => {
    const plannerModel = scriptedModel([
      {
        output: {
          tasks: [
            { id: 'a', description: 'A', worker: 'echo', deps: ['b'] },
            { id: 'b', description: 'B', worker: 'echo', deps: ['a'] },
          ],
        },
      },
      {
        output: {
          tasks: [
            { id: 'a', description: 'A', worker: 'echo' },
            { id: 'b', description: 'B', worker: 'echo', deps: ['a'] },
          ],
        },
      },
    ]);
    const planner = agent({
      name: 'planner',
      description: 'Plans',
      instructions: 'Plan the goal as tasks.',
      model: plannerModel,
      output: planSchema,
    });
    const echo = {
      description: 'Echoes',
      run: async (_ctx: unknown, request: { id: string; inputs: Record<string, unknown> }) =>
        `${request.id}<${Object.keys(request.inputs).join(',')}`,
    };
    const flow = planWorkflow(plan('fixme', { planner, workers: { echo } }));
    const baton = await openBaton({ workflows: [flow] });
    const run = await baton.start('fixme', { goal: 'do a then b' });
    expect(await run.result()).toMatchObject({ outputs: { a: 'a<', b: 'b<a' }, revision: 0 });
    expect(plannerModel.calls).toHaveLength(2);
    expect(plannerModel.calls[1]!.lastUserText).toContain('it is not a graph: cycle');
    const history = await run.history();
    expect(
      ofType(history, 'plan.rejected').map((event) => payload<{ problems: string[] }>(event).problems),
    ).toEqual([[expect.stringMatching(/^it is not a graph: cycle (a → b → a|b → a → b)$/)]]);
    expect(payload(ofType(history, 'plan.decided')[0]!)).toMatchObject({
      planner: 'agent:planner',
      attempt: 2,
    });
  });

  it('refuses a plan with a task outside the grant, journaled, and runs nothing of it', async () => {
    const refund = tool({
      name: 'payments.refund',
      description: 'Refund a charge',
      input: z.object({ chargeId: z.string() }),
      effect: 'irreversible',
      execute: async () => 'refunded',
    });
    const search = tool({
      name: 'search.web',
      description: 'Search',
      input: z.object({ query: z.string() }),
      effect: 'read',
      execute: async () => [],
    });
    const model = scriptedModel([]);
    const support = agent({
      name: 'support',
      description: 'Handles tickets',
      instructions: '…',
      model,
      tools: [search, refund],
    });
    const planner = () => ({
      tasks: [
        {
          id: 'refund',
          description: 'Refund the duplicate charge',
          worker: 'support',
          tools: ['payments.refund'],
        },
      ],
    });
    const flow = planWorkflow(plan('tickets', { planner, workers: { support }, maxAttempts: 2 }));
    const baton = await openBaton({ workflows: [flow] });
    const run = await baton.start(
      'tickets',
      { goal: 'refund ch_1' },
      { grant: { actions: ['tool:search.*'] } },
    );
    const error = await run.result().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).error).toMatchObject({ code: 'PLAN_INVALID' });
    expect((error as RunFailedError).error.message).toContain(
      "task 'refund' needs tool:payments.refund, which the run's grant does not allow (it holds tool:search.*)",
    );
    const history = await run.history();
    expect(ofType(history, 'plan.rejected')).toHaveLength(2);
    expect(ofType(history, 'plan.failed')[0]!.payload).toMatchObject({ code: 'PLAN_INVALID' });
    expect(ofType(history, 'plan.decided', 'graph.started', 'agent.started')).toEqual([]);
    expect(model.calls).toHaveLength(0);
  });

  it('runs each task under the grant narrowed to it, and re-plans around a guardrail block', async () => {
    const search = tool({
      name: 'search.web',
      description: 'Search',
      input: z.object({ query: z.string() }),
      effect: 'read',
      execute: async () => ['a source'],
    });
    const refund = tool({
      name: 'payments.refund',
      description: 'Refund',
      input: z.object({ id: z.string() }),
      effect: 'irreversible',
      execute: async () => 'refunded',
    });
    const careful = agent({
      name: 'careful',
      description: 'Searches carefully',
      instructions: '…',
      model: scriptedModel(['found it', 'wrapped up']),
      tools: [search, refund],
    });
    const blocked = agent({
      name: 'blocked',
      description: 'Answers with secrets',
      instructions: '…',
      model: scriptedModel(['the password is hunter2']),
      guardrails: {
        output: [(answer: string) => (answer.includes('password') ? block('leaks a password') : pass())],
      },
    });
    const planner = (request: PlanRequest) =>
      request.revision === 0
        ? {
            tasks: [
              { id: 'look', description: 'Look it up', worker: 'careful', tools: ['search.web'] },
              { id: 'leak', description: 'Say the secret', worker: 'blocked' },
            ],
          }
        : {
            tasks: [
              {
                id: 'done',
                description: 'Wrap up',
                worker: 'careful',
                deps: ['look'],
                tools: ['search.web'],
              },
            ],
          };
    const flow = planWorkflow(plan('narrowed', { planner, workers: { careful, blocked } }));
    const baton = await openBaton({ workflows: [flow] });
    const run = await baton.start('narrowed', { goal: 'look it up' }, { grant: { actions: ['tool:*'] } });
    expect(await run.result()).toMatchObject({
      revision: 1,
      outputs: { look: 'found it', done: 'wrapped up' },
    });
    const history = await run.history();
    const decided = ofType(history, 'plan.decided');
    expect(payload<{ replaces: { reason: string } }>(decided[1]!).replaces.reason).toContain(
      "task 'leak' failed: Guardrail",
    );
    expect(payload(decided[1]!)).toMatchObject({ kept: ['look'] });
    const started = ofType(history, 'agent.started').map((event) =>
      payload<{ name: string; grant?: { actions: string[]; holder?: string; depth: number } }>(event),
    );
    expect(started[0]).toMatchObject({
      name: 'careful',
      grant: { actions: ['tool:search.web'], holder: 'agent:careful', depth: 2 },
    });
  });

  it('asks a person to approve a plan holding an irreversible step, and runs the plan as they edited it', async () => {
    const ran: string[] = [];
    const worker = (irreversible: boolean) => ({
      description: irreversible ? 'Publishes to the website' : 'Drafts text',
      irreversible,
      run: async (ctx: { step: <T>(name: string, fn: () => T) => Promise<T> }, request: { id: string }) =>
        ctx.step(request.id, () => (ran.push(request.id), request.id)),
    });
    const planner = () => ({
      tasks: [
        { id: 'draft', description: 'Draft', worker: 'drafter' },
        { id: 'publish', description: 'Publish', worker: 'publisher', deps: ['draft'] },
      ],
    });
    const flow = planWorkflow(
      plan('publishing', {
        planner,
        workers: { drafter: worker(false), publisher: worker(true) },
        approval: { when: 'irreversible', approvers: ['user:editor'] },
      }),
    );
    const baton = await openBaton({ workflows: [flow] });
    const run = await baton.start('publishing', { goal: 'publish the note' }, { as: 'user:alice' });
    await parked(baton, run.runId);
    expect(ran).toEqual([]);
    const [pending] = await baton.approvals();
    expect(pending!.summary).toContain('irreversible: publish');
    await baton.approve(run.runId, pending!.approvalId, {
      as: 'user:editor',
      args: {
        tasks: [
          { id: 'draft', description: 'Draft', worker: 'drafter' },
          { id: 'review', description: 'Review', worker: 'drafter', deps: ['draft'] },
          { id: 'publish', description: 'Publish', worker: 'publisher', deps: ['review'] },
        ],
      },
    });
    expect(await run.result()).toMatchObject({ revision: 0 });
    expect(ran).toEqual(['draft', 'review', 'publish']);
    const decided = ofType(await run.history(), 'plan.decided');
    expect(decided).toHaveLength(2);
    expect(decided[1]!.payload).toMatchObject({
      editedBy: 'user:editor',
      levels: [['draft'], ['review'], ['publish']],
    });
  });

  it('asks a planner that failed or proposed an invalid plan again, and gives up after maxAttempts', async () => {
    const attempts: number[] = [];
    const planner = (request: PlanRequest) => {
      attempts.push(request.attempt);
      if (request.attempt === 1) throw new Error('planner crashed');
      return { tasks: [{ id: 'loop', description: 'Loop', worker: 'echo', deps: ['loop'] }] };
    };
    const echo = { description: 'Echoes', run: () => 'echo' };
    const flow = planWorkflow(plan('hopeless', { planner, workers: { echo }, maxAttempts: 3 }));
    const baton = await openBaton({ workflows: [flow] });
    const run = await baton.start('hopeless', { goal: 'loop forever' });
    const error = await run.result().catch((caught: unknown) => caught);
    expect((error as RunFailedError).error).toMatchObject({ code: 'PLAN_INVALID' });
    expect((error as RunFailedError).error.message).toContain(
      'the planner proposed 3 plan(s) and none passed',
    );
    expect((error as RunFailedError).error.message).toContain("task 'loop' depends on itself");
    expect(attempts).toEqual([1, 2, 3]);
    const rejected = ofType(await run.history(), 'plan.rejected').map((event) =>
      payload<{ attempt: number; problems: string[] }>(event),
    );
    expect(rejected.map((entry) => entry.attempt)).toEqual([1, 2, 3]);
    expect(rejected[0]!.problems[0]).toContain('the planner gave no plan: ');
    expect(rejected[0]!.problems[0]).toContain('planner crashed');
  });

  it('stops re-planning at maxRevisions with the failure named', async () => {
    const planner = () => ({ tasks: [{ id: 'flaky', description: 'Fails', worker: 'broken' }] });
    const broken = {
      description: 'Always fails',
      run: async (ctx: { step: <T>(name: string, fn: () => T, options: object) => Promise<T> }) =>
        ctx.step(
          'broken',
          () => {
            throw new Error('no luck');
          },
          { retry: { maxAttempts: 1 } },
        ),
    };
    const wrapper = workflow('wrapper', async (ctx, input: { goal: string }) =>
      plan('stubborn', { planner, workers: { broken }, maxRevisions: 1 }).run(ctx, input.goal),
    );
    const baton = await openBaton({ workflows: [wrapper] });
    const run = await baton.start(wrapper, { goal: 'try' });
    const error = await run.result().catch((caught: unknown) => caught);
    expect((error as RunFailedError).error).toMatchObject({ code: 'PLAN_REVISIONS_EXHAUSTED' });
    expect((error as RunFailedError).error.message).toContain("failed at task 'flaky'");
    const history = await run.history();
    expect(ofType(history, 'plan.decided')).toHaveLength(2);
    expect(ofType(history, 'graph.failed')).toHaveLength(2);
  });
});
