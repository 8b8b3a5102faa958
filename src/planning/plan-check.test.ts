import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGrant } from '../access/grant.ts';
import { agent } from '../agents/agent.ts';
import { tool } from '../agents/tool.ts';
import { scriptedModel } from '../testing/scripted-model.ts';
import { checkPlan, type PlanEnvironment } from './plan-check.ts';
import { plan } from './plan.ts';

const refund = tool({
  name: 'payments.refund',
  description: 'Refund',
  input: z.object({ id: z.string() }),
  effect: 'irreversible',
  execute: async () => 'ok',
});
const search = tool({
  name: 'search.web',
  description: 'Search',
  input: z.object({ q: z.string() }),
  effect: 'read',
  execute: async () => [],
});
const support = agent({
  name: 'support',
  description: 'Handles tickets',
  instructions: '…',
  model: scriptedModel([]),
  tools: [search, refund],
});

function environment(overrides: Partial<PlanEnvironment> = {}): PlanEnvironment {
  return {
    workers: { support, echo: { description: 'Echoes', run: () => 'echo' } },
    maxTasks: 4,
    grant: undefined,
    now: Date.UTC(2026, 0, 1),
    completed: new Set(),
    route: async (capability) =>
      capability.includes('ticket')
        ? { chosen: 'support', candidates: [{ name: 'support', similarity: 0.8 }], reason: 'closest' }
        : { candidates: [{ name: 'echo', similarity: 0.01 }], reason: 'No candidate reached minScore 0.2.' },
    ...overrides,
  };
}

async function problemsOf(proposal: unknown, overrides: Partial<PlanEnvironment> = {}): Promise<string[]> {
  const checked = await checkPlan(proposal, environment(overrides));
  return checked.ok ? [] : checked.problems;
}

describe('checkPlan', () => {
  it('passes a plan with its levels, routing and grant actions', async () => {
    const checked = await checkPlan(
      {
        tasks: [
          {
            id: 'read',
            description: 'Read the ticket',
            capability: 'handle a support ticket',
            tools: ['search.web'],
          },
          { id: 'note', description: 'Note it', worker: 'echo' },
          { id: 'reply', description: 'Reply', worker: 'echo', deps: ['read', 'note'] },
        ],
      },
      environment({ grant: createGrant({ tenant: 't', actions: ['tool:search.*'] }) }),
    );
    expect(checked).toMatchObject({
      ok: true,
      levels: [['read', 'note'], ['reply']],
      kept: [],
      tasks: [
        { id: 'read', assigned: 'support', actions: ['tool:search.web'], level: 0, routeReason: 'closest' },
        { id: 'note', assigned: 'echo', actions: [], level: 0 },
        { id: 'reply', assigned: 'echo', deps: ['read', 'note'], level: 1 },
      ],
    });
  });

  it('refuses what is not a plan', async () => {
    expect(await problemsOf('write a report')).toEqual([
      'it is not a plan: expected { tasks: [{ id, description, deps, capability | worker }] }',
    ]);
    expect(await problemsOf({ tasks: [] })).toEqual(['it has no tasks']);
    expect(await problemsOf({ tasks: [42, { id: 'a b', description: 'x', worker: 'echo' }] })).toEqual([
      'task 1 is not an object',
      "task 'a b' needs an id of 1–128 letters, digits, '_', '.', ':' or '-'",
    ]);
    expect(
      await problemsOf({
        tasks: [
          { id: 'a', worker: 'echo' },
          { id: 'b', description: 'B' },
          { id: 'c', description: 'C', worker: 'echo', capability: 'x' },
        ],
      }),
    ).toEqual([
      "task 'a' needs a description",
      "task 'b' names neither a worker nor a capability",
      "task 'c' names both a worker and a capability: name one",
    ]);
  });

  it('refuses cycles, self-reference, unknown dependencies and tasks that could never start', async () => {
    expect(
      await problemsOf({
        tasks: [
          { id: 'a', description: 'A', worker: 'echo', deps: ['b'] },
          { id: 'b', description: 'B', worker: 'echo', deps: ['a'] },
          { id: 'c', description: 'C', worker: 'echo', deps: ['c'] },
          { id: 'd', description: 'D', worker: 'echo', deps: ['a', 'reed'] },
        ],
      }),
    ).toEqual([
      "task 'c' depends on itself",
      "task 'd' depends on 'reed', which is not a task",
      expect.stringMatching(/^it is not a graph: cycle (a → b → a|b → a → b)$/),
      "task 'd' can never start: it waits on a cycle",
    ]);
    expect(
      await problemsOf({
        tasks: [
          { id: 'draft', description: 'A', worker: 'echo' },
          { id: 'b', description: 'B', worker: 'echo', deps: ['draf'] },
        ],
      }),
    ).toEqual(["task 'b' depends on 'draf', which is not a task (did you mean 'draft'?)"]);
  });

  it('refuses a plan over the size limit', async () => {
    const tasks = Array.from({ length: 5 }, (_, index) => ({
      id: `t${index}`,
      description: 'T',
      worker: 'echo',
    }));
    expect(await problemsOf({ tasks })).toEqual(['it has 5 tasks to run, more than the limit of 4']);
  });

  it('refuses unknown workers, capabilities no worker offers and tools a worker does not have', async () => {
    expect(
      await problemsOf({
        tasks: [
          { id: 'a', description: 'A', worker: 'ecco' },
          { id: 'b', description: 'B', capability: 'fly a plane' },
          { id: 'c', description: 'C', worker: 'support', tools: ['email.send'] },
        ],
      }),
    ).toEqual([
      "task 'a' names worker 'ecco', which is not a worker (did you mean 'echo'?); workers: support, echo",
      "task 'b' asks for capability 'fly a plane', which no worker offers: No candidate reached minScore 0.2.",
      "task 'c' asks for tool 'email.send', which worker 'support' does not have (it has: search.web, payments.refund)",
    ]);
  });

  it("refuses a task the run's grant does not allow, and marks irreversible steps", async () => {
    const grant = createGrant({ tenant: 't', actions: ['tool:search.*'] });
    expect(
      await problemsOf(
        { tasks: [{ id: 'pay', description: 'Refund', worker: 'support', tools: ['payments.refund'] }] },
        { grant },
      ),
    ).toEqual([
      "task 'pay' needs tool:payments.refund, which the run's grant does not allow (it holds tool:search.*)",
    ]);
    const checked = await checkPlan(
      { tasks: [{ id: 'pay', description: 'Refund', worker: 'support', tools: ['payments.refund'] }] },
      environment(),
    );
    expect(checked).toMatchObject({ ok: true, tasks: [{ id: 'pay', irreversible: true }] });
  });

  it('keeps tasks completed by an earlier revision: listed again or depended on, they do not run', async () => {
    const checked = await checkPlan(
      {
        tasks: [
          { id: 'done', description: 'Done before', worker: 'echo' },
          { id: 'next', description: 'Next', worker: 'echo', deps: ['done', 'also-done'] },
        ],
      },
      environment({ completed: new Set(['done', 'also-done']) }),
    );
    expect(checked).toMatchObject({ ok: true, kept: ['also-done', 'done'], levels: [['next']] });
    expect(checked.ok && checked.tasks.map((task) => task.id)).toEqual(['next']);
  });

  it('refuses a plan definition that cannot work, at the door', () => {
    const workers = { echo: { description: 'Echoes', run: () => 'echo' } };
    expect(() => plan('p', { planner: () => ({ tasks: [] }), workers, routing: { costBias: 2 } })).toThrow(
      "Plan 'p': route option costBias",
    );
    expect(() => plan('p', { planner: () => ({ tasks: [] }), workers: {} })).toThrow(
      'needs at least one worker',
    );
    expect(() => plan('p', { planner: 'me' as never, workers })).toThrow('needs a planner');
    expect(() => plan('p', { planner: () => ({ tasks: [] }), workers, maxRevisions: -1 })).toThrow(
      'maxRevisions must be a whole number of at least 0',
    );
  });
});
