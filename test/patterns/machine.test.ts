import { describe, expect, it } from 'vitest';
import { machine, machineWorkflow, RunFailedError, type WorkflowContext } from '../../src/index.ts';
import { MachineDefinitionError } from '../../src/patterns/index.ts';
import { formatPlans, plansOf } from '../../src/planning/plan-format.ts';
import { harnessesClosedAfterEach, parked } from '../support/harness.ts';
import { ofType } from '../support/journal-events.ts';

const { openBaton } = harnessesClosedAfterEach();

type Verdict = { approved: boolean };

/** draft → review → revise → review … until the reviewer approves, at most `max` revisions, else escalate. */
function reviewLoop(name: string, approveAt: number, max: number, log: string[], park = false) {
  return machine(name, {
    initial: 'draft',
    states: {
      draft: {
        run: (ctx: WorkflowContext) => ctx.step('draft', () => (log.push('draft'), 'v1')),
        next: 'review',
      },
      review: {
        run: async (ctx: WorkflowContext, { visit, previous }) => {
          if (park && visit === 2) await ctx.waitFor('go');
          return ctx.step(
            `review-${visit}`,
            () => (log.push(`review:${visit}:${String(previous)}`), { approved: visit >= approveAt }),
          );
        },
        next: [
          { to: 'publish', when: (verdict: Verdict) => verdict.approved },
          { to: 'revise', max },
          'escalate',
        ],
      },
      revise: {
        run: (ctx: WorkflowContext, { visit }) =>
          ctx.step(`revise-${visit}`, () => (log.push(`revise:${visit}`), `v${visit + 1}`)),
        next: 'review',
      },
      publish: {
        run: (ctx: WorkflowContext, { outputs }) =>
          ctx.step('publish', () => (log.push('publish'), outputs.revise ?? outputs.draft)),
      },
      escalate: {},
    },
  });
}

describe('state machines with bounded cycles', () => {
  it('loops draft → review → revise until approved, counting each edge', async () => {
    const log: string[] = [];
    const baton = await openBaton({ workflows: [machineWorkflow(reviewLoop('review', 3, 3, log))] });
    const run = await baton.start('review', null);
    expect(await run.result()).toEqual({
      final: 'publish',
      output: 'v3',
      path: ['draft', 'review', 'revise', 'review', 'revise', 'review', 'publish'],
      edges: { 'draft→review': 1, 'review→revise': 2, 'revise→review': 2, 'review→publish': 1 },
    });
    expect(log).toEqual([
      'draft',
      'review:1:v1',
      'revise:1',
      'review:2:v2',
      'revise:2',
      'review:3:v3',
      'publish',
    ]);
    const history = await run.history();
    expect(ofType(history, 'machine.state.entered')).toHaveLength(7);
    expect(ofType(history, 'machine.transitioned').map((event) => event.payload)).toContainEqual(
      expect.objectContaining({
        from: 'review',
        to: 'revise',
        taken: 2,
        reason: 'it has no condition (2 of at most 3)',
      }),
    );
    expect(await baton.replay(run.runId)).toMatchObject({ ok: true, replayed: 'completed' });
    expect(log).toHaveLength(7); // replay ran no step again
    const text = formatPlans(plansOf(history));
    expect(text).toContain('machine review (completed in publish), 7 step(s)');
    expect(text).toContain('review → revise  taken 2 of at most 3');
  });

  it('leaves the loop by the next edge once the bound is reached', async () => {
    const log: string[] = [];
    const baton = await openBaton({ workflows: [machineWorkflow(reviewLoop('never-approved', 99, 2, log))] });
    const run = await baton.start('never-approved', null);
    const result = (await run.result()) as { final: string; edges: Record<string, number> };
    expect(result.final).toBe('escalate');
    expect(result.edges['review→revise']).toBe(2);
    const last = ofType(await run.history(), 'machine.transitioned').at(-1)!;
    expect(last.payload).toMatchObject({
      from: 'review',
      to: 'escalate',
      reason: 'it has no condition; review → revise (max 2) reached its bound',
    });
  });

  it('fails, journaled, when a bounded loop has nowhere else to go', async () => {
    const stuck = machine('stuck', {
      initial: 'try',
      states: {
        try: {
          run: () => 'no',
          next: [
            { to: 'done', when: (answer: string) => answer === 'yes' },
            { to: 'try', max: 2 },
          ],
        },
        done: {},
      },
    });
    const baton = await openBaton({ workflows: [machineWorkflow(stuck)] });
    const run = await baton.start('stuck', null);
    const error = await run.result().catch((caught: unknown) => caught);
    expect((error as RunFailedError).error).toMatchObject({ code: 'MACHINE_STUCK' });
    expect((error as RunFailedError).error.message).toContain(
      "stuck in state 'try': try → try (max 2) reached its bound",
    );
    expect(ofType(await run.history(), 'machine.failed')[0]!.payload).toMatchObject({
      state: 'try',
      steps: 3,
      edges: { 'try→try': 2 },
    });
  });

  it('on resume takes the journaled edges: conditions are not evaluated again', async () => {
    const log: string[] = [];
    let evaluated = 0;
    const counted = machine('counted', {
      initial: 'ask',
      states: {
        ask: {
          run: async (ctx: WorkflowContext, { visit }) => {
            if (visit === 2) await ctx.waitFor('go');
            return ctx.step(`ask-${visit}`, () => (log.push(`ask:${visit}`), visit));
          },
          next: [
            { to: 'done', when: (visit: number) => (evaluated++, visit >= 2) },
            { to: 'ask', max: 5 },
          ],
        },
        done: {},
      },
    });
    const baton = await openBaton({ workflows: [machineWorkflow(counted)] });
    const run = await baton.start('counted', null);
    await parked(baton, run.runId);
    expect(evaluated).toBe(1);
    await baton.signal(run.runId, 'go', null);
    expect(await run.result()).toMatchObject({ final: 'done', path: ['ask', 'ask', 'done'] });
    expect(evaluated).toBe(2);
    expect(log).toEqual(['ask:1', 'ask:2']);
  });

  it('refuses at definition a cycle with no bound, a cycle with no exit, and unreachable states', () => {
    const attempt = () =>
      machine('bad', {
        initial: 'a',
        states: {
          a: { next: ['b', 'end'] },
          b: { next: 'a' },
          c: { next: 'd' },
          d: { next: [{ to: 'c', max: 2 }] },
          end: {},
        },
      });
    expect(attempt).toThrow(MachineDefinitionError);
    const problems = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as MachineDefinitionError).problems;
      }
      return [];
    })();
    expect(problems).toEqual(
      expect.arrayContaining([
        "state 'c' cannot be reached from the initial state 'a'",
        "state 'd' cannot be reached from the initial state 'a'",
        'cycle a → b → a has no bound: give one of its edges a max',
        'cycle c → d → c has no exit: no edge leaves it',
      ]),
    );
    expect(() => machine('x', { initial: 'a', states: { a: { next: 'nowhere' } } })).toThrow(
      "state 'a' goes to 'nowhere', which is not a state",
    );
  });

  it('describes its structure with the cycles and their bounds', () => {
    const described = reviewLoop('described', 1, 3, []).describe();
    expect(described.cycles).toEqual([
      { path: ['review', 'revise', 'review'], bound: 'review → revise at most 3' },
    ]);
    expect(described.states.filter((state) => state.final).map((state) => state.id)).toEqual([
      'publish',
      'escalate',
    ]);
  });
});
