import { describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { Baton } from '../../src/baton.ts';
import { machine, machineWorkflow } from '../../src/patterns/machine.ts';
import { plan, planWorkflow } from '../../src/planning/plan.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import {
  buildTimeline,
  buildTree,
  deriveRunModel,
  graphStates,
  openWaits,
  type TreeNode,
} from '../../ui/src/model/run-model.ts';
import { docsLookup } from '../support/docs-tools.ts';
import { harnessesClosedAfterEach, SystemClock } from '../support/harness.ts';
import { diamond, supportWorkflow } from '../support/sample-workflows.ts';

// What the run page draws, from real journals written by real runs.

const { start } = harnessesClosedAfterEach();

async function journalOf(
  flow: Parameters<Baton['start']>[0],
  input: unknown,
  decide?: (baton: Baton, runId: string) => Promise<void>,
): Promise<JournalEvent[]> {
  const { baton } = await start({
    workflows: [flow as never],
    worker: { pollMs: 10 },
    guard: { approvals: { gates: { irreversible: true } } },
    clock: new SystemClock(),
  });
  const run = await baton.start(flow as never, input as never, { as: 'user:alice' });
  if (decide) await decide(baton, run.runId);
  await run.result();
  return baton.history(run.runId);
}

/** The tree as `kind label [status]` lines, indented by depth. */
function outline(node: TreeNode, depth = 0): string[] {
  return [
    `${'  '.repeat(depth)}${node.kind} ${node.label} [${node.status}]`,
    ...node.children.flatMap((child) => outline(child, depth + 1)),
  ];
}

describe('the run model of the UI', () => {
  it('builds agents → turns → model and tool calls → approvals, and stacks parallel tool calls in lanes', async () => {
    const events = await journalOf(supportWorkflow(), { ticket: 'T-1' }, async (baton, runId) => {
      for (;;) {
        const [pending] = await baton.approvals({ runId });
        if (pending) {
          await baton.approve(runId, pending.approvalId, { as: 'user:bob' });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
    expect(outline(buildTree(events, 'run support'))).toEqual([
      'run run support [completed]',
      '  step step load-account [completed]',
      '  agent agent billing [completed]',
      '    turn turn 1 [completed]',
      '      model model scripted-support [completed]',
      '      tool tool docs.lookup [completed]',
      '      tool tool docs.lookup [completed]',
      '    turn turn 2 [completed]',
      '      model model scripted-support [completed]',
      '      tool tool payments.refund [completed]',
      '        approval approval [completed]',
      '    turn turn 3 [completed]',
      '      model model scripted-support [completed]',
    ]);

    const timeline = buildTimeline(events, Date.now());
    const lookups = timeline.items.filter((item) => item.label === 'tool docs.lookup');
    expect(lookups).toHaveLength(2);
    // Both lookups were in flight at once: they overlap in time and so sit in different lanes.
    expect(lookups[0]!.start).toBeLessThanOrEqual(lookups[1]!.end!);
    expect(lookups[0]!.lane).not.toBe(lookups[1]!.lane);
    const agentBar = timeline.items.find((item) => item.kind === 'agent')!;
    expect(agentBar).toMatchObject({ lane: 0, status: 'completed' });
    expect(timeline.items.filter((item) => item.kind === 'model').map((item) => item.status)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    for (const item of timeline.items) expect(item.end).toBeGreaterThanOrEqual(item.start);
  });

  it('puts an agent handed off to under the handoff, and an agent called as a tool under the turn that called it', async () => {
    const billing = agent({
      name: 'billing',
      description: 'Refunds',
      instructions: 'Handle billing.',
      model: scriptedModel(['Refunded.']),
    });
    const triage = agent({
      name: 'triage',
      description: 'Routes',
      instructions: 'Route.',
      model: scriptedModel([{ toolCalls: [{ name: 'transfer_to_billing', args: { reason: 'refund' } }] }]),
      handoffs: [billing],
    });
    const handoff = await journalOf(
      workflow('handoff', async (ctx) => ctx.runAgent(triage, 'I want a refund')),
      {},
    );
    expect(outline(buildTree(handoff, 'run'))).toEqual([
      'run run [completed]',
      '  agent agent triage [completed]',
      '    turn turn 1 [completed]',
      '      model model scripted [completed]',
      '      handoff hand off to billing [completed]',
      '        agent agent billing [completed]',
      '          turn turn 1 [completed]',
      '            model model scripted [completed]',
    ]);

    const researcher = agent({
      name: 'researcher',
      description: 'Researches',
      instructions: 'Research.',
      model: scriptedModel([(request) => `Notes on ${request.lastUserText}`]),
    });
    const planner = agent({
      name: 'planner',
      description: 'Plans',
      instructions: 'Plan.',
      model: scriptedModel([{ toolCalls: [{ name: 'researcher', args: { task: 'queues' } }] }, 'The plan.']),
      tools: [researcher],
    });
    const nested = await journalOf(
      workflow('nested', async (ctx) => ctx.runAgent(planner, 'Make a plan')),
      {},
    );
    const tree = outline(buildTree(nested, 'run'));
    expect(tree.slice(0, 7)).toEqual([
      'run run [completed]',
      '  agent agent planner [completed]',
      '    turn turn 1 [completed]',
      '      model model scripted [completed]',
      '      agent agent researcher [completed]',
      '        turn turn 1 [completed]',
      '          model model scripted [completed]',
    ]);
  });

  it('keeps each tool call under the agent that asked for it when parallel agents reuse call ids', async () => {
    const lookup = docsLookup((word) => `the meaning of ${word}`);
    const researcher = (name: string, word: string) =>
      agent({
        name,
        description: `Researches ${word}`,
        instructions: 'Look it up.',
        // Both scripted models number their calls call_1_1, …: the ids repeat across agents.
        model: scriptedModel([
          { toolCalls: [{ name: 'docs.lookup', args: { word } }] },
          `Done with ${word}.`,
        ]),
        tools: [lookup],
      });
    const fleet = researcher('fleet-analyst', 'buses');
    const cost = researcher('cost-researcher', 'prices');
    const events = await journalOf(
      workflow('two-researchers', async (ctx) =>
        Promise.all([ctx.runAgent(fleet, 'Fleet'), ctx.runAgent(cost, 'Costs')]),
      ),
      {},
    );
    const callIds = events
      .filter((event) => event.type === 'tool.requested')
      .map((event) => (event.payload as { callId: string }).callId);
    expect(new Set(callIds).size).toBe(1);
    const tree = buildTree(events, 'run');
    const toolsUnder = (name: string) =>
      tree.children
        .filter((child) => child.label === `agent ${name}`)
        .flatMap((agentNode) => agentNode.children.flatMap((turn) => turn.children))
        .filter((child) => child.kind === 'tool')
        .map((tool) => tool.seq);
    const requestedBy = (name: string) =>
      events
        .filter(
          (event) => event.type === 'tool.requested' && (event.payload as { agent?: string }).agent === name,
        )
        .map((event) => event.seq);
    expect(toolsUnder('fleet-analyst')).toEqual(requestedBy('fleet-analyst'));
    expect(toolsUnder('cost-researcher')).toEqual(requestedBy('cost-researcher'));
    expect(toolsUnder('fleet-analyst')).toHaveLength(1);
    expect(toolsUnder('cost-researcher')).toHaveLength(1);
  });

  it("follows a graph's nodes to their final states, and lists the signals a run waits for", async () => {
    const events = await journalOf(diamond, {});
    expect(graphStates(events)).toEqual([
      {
        name: 'diamond',
        nodes: [
          { id: 'plan', deps: [], state: 'completed', seq: expect.any(Number) },
          { id: 'research', deps: ['plan'], state: 'completed', seq: expect.any(Number) },
          { id: 'draft', deps: ['plan'], state: 'completed', seq: expect.any(Number) },
          { id: 'merge', deps: ['research', 'draft'], state: 'completed', seq: expect.any(Number) },
        ],
      },
    ]);
    const half = events.slice(
      0,
      events.findIndex(
        (event) =>
          event.type === 'graph.node.started' && (event.payload as { node: string }).node === 'research',
      ) + 1,
    );
    expect(graphStates(half)[0]!.nodes.map((node) => node.state)).toEqual([
      'completed',
      'running',
      'pending',
      'pending',
    ]);

    const awaited = (seq: number, op: number, name: string): JournalEvent => ({
      runId: 'run_1',
      seq,
      type: 'signal.awaited',
      at: new Date(seq * 1000).toISOString(),
      actor: 'workflow:w',
      onBehalfOf: ['user:alice'],
      payload: { op, name },
      prevHash: '',
      hash: '',
    });
    const waiting = [awaited(2, 1, 'go'), awaited(3, 2, 'baton.approve:9')];
    expect(openWaits(deriveRunModel(waiting))).toEqual({ signals: ['go'] });
  });

  it("draws each revision of a plan with its kept tasks, and a state machine's edges with the times taken", async () => {
    const step = (id: string, fail = false) => ({
      description: id,
      run: (ctx: { step: <T>(name: string, fn: () => T, options?: object) => Promise<T> }) =>
        ctx.step(
          id,
          () => {
            if (fail) throw new Error(`${id} broke`);
            return id;
          },
          { retry: { maxAttempts: 1 } },
        ),
    });
    const planned = planWorkflow(
      plan('drawn', {
        planner: (request) =>
          request.revision === 0
            ? {
                tasks: [
                  { id: 'a', description: 'A', worker: 'ok' },
                  { id: 'b', description: 'B', worker: 'bad', deps: ['a'] },
                ],
              }
            : { tasks: [{ id: 'c', description: 'C', worker: 'ok', deps: ['a'] }] },
        workers: { ok: step('ok'), bad: step('bad', true) },
      }),
    );
    const planGraphs = graphStates(await journalOf(planned, { goal: 'draw' }));
    expect(planGraphs.map((graph) => [graph.title, graph.note])).toEqual([
      ['plan drawn · revision 0', undefined],
      ['plan drawn · revision 1', expect.stringContaining("replaces revision 0: task 'b' failed")],
    ]);
    expect(planGraphs[1]!.nodes.map((node) => [node.id, node.state, node.label])).toEqual([
      ['a', 'kept', undefined],
      ['c', 'completed', 'c → ok'],
    ]);
    expect(planGraphs[0]!.nodes.map((node) => node.state)).toEqual(['completed', 'failed']);

    const loop = machineWorkflow(
      machine('drawn-loop', {
        initial: 'try',
        states: {
          try: {
            run: (_ctx, { visit }) => visit,
            next: [
              { to: 'done', when: (visit: number) => visit >= 3 },
              { to: 'try', max: 4 },
            ],
          },
          done: {},
        },
      }),
    );
    const [drawn] = graphStates(await journalOf(loop, null));
    expect(drawn).toMatchObject({
      title: 'machine drawn-loop',
      edges: [
        { from: 'try', to: 'done', label: '×1' },
        { from: 'try', to: 'try', label: '2/4' },
      ],
    });
    expect(drawn!.nodes.map((node) => [node.id, node.state, node.label])).toEqual([
      ['try', 'completed', 'try ×3'],
      ['done', 'completed', 'done ×1'],
    ]);
  });
});
