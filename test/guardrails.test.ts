import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { denyList } from '../src/guard/deny-list.ts';
import { guardrail, rewrite } from '../src/guard/guardrail.ts';
import { maxLength } from '../src/guard/length-guardrail.ts';
import { redaction } from '../src/guard/redaction.ts';
import { schema } from '../src/guard/schema-guardrail.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach();

const EMAIL = 'dana.smith@example.com';
const CARD = '4111 1111 1111 1111';
const KEY = 'sk-proj-Zx81kQ0pLm29vB7nR4tY6uW3';
const ORDER = '1234567890123'; // 13 digits that fail the Luhn check: not a card

const customers = tool({
  name: 'crm.customer',
  description: 'Reads a customer record',
  input: z.object({ id: z.string() }),
  effect: 'read',
  execute: async ({ id }) => ({
    id,
    email: EMAIL,
    note: `Paid with ${CARD} for order ${ORDER}; integration key ${KEY}`,
  }),
});

describe('guardrails on tool calls', () => {
  it('redacts a tool result before the model (and the journal) ever see it', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'crm.customer', args: { id: 'C-9' } }] },
      (request) => `Customer record: ${JSON.stringify(request.toolResults[0]!.output)}`,
    ]);
    const support = agent({
      name: 'support',
      description: 'Support',
      instructions: 'Help.',
      model,
      tools: [customers],
      guardrails: { tools: { after: [redaction()] } },
    });
    const flow = workflow('support', async (ctx) => ctx.runAgent(support, 'Who is C-9?'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    const answer = await run.result();

    const seen = model.calls[1]!.toolResults[0]!.output as { email: string; note: string };
    expect(seen).toEqual({
      id: 'C-9',
      email: '[email]',
      note: `Paid with [card] for order ${ORDER}; integration key [secret]`,
    });
    expect(answer).not.toContain(EMAIL);

    const events = await run.history();
    const journal = JSON.stringify(events);
    for (const secret of [EMAIL, CARD, KEY]) expect(journal).not.toContain(secret);
    const [verdict] = of(events, 'guard.verdict');
    expect(verdict!.payload).toMatchObject({
      name: 'crm.customer',
      stage: 'tool.after',
      guardrail: 'redaction',
      verdict: 'rewrite',
      reason: 'redacted 1 email, 1 secret, 1 card',
      data: { redacted: { secret: 1, email: 1, card: 1 } },
    });
    const rewrite = of(events, 'tool.verdict').find((event) => event.payload.phase === 'after')!;
    expect(rewrite.payload).toMatchObject({ interceptor: 'guard.guardrails', verdict: 'rewrite' });
    // The verdicts are committed with the result, which follows them.
    expect(verdict!.seq).toBeLessThan(of(events, 'tool.called')[0]!.seq);
    expect(verifyChain(events).ok).toBe(true);
  });

  it('blocks arguments on a deny-list: the tool does not run and the model is told why', async () => {
    const ran: string[] = [];
    const shell = tool({
      name: 'shell.run',
      description: 'Runs a command',
      input: z.object({ command: z.string() }),
      effect: 'write',
      execute: async ({ command }) => {
        ran.push(command);
        return 'ok';
      },
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'shell.run', args: { command: 'rm -rf /var/data' } }] },
      'I will not do that.',
    ]);
    const ops = agent({ name: 'ops', description: 'Ops', instructions: 'Operate.', model, tools: [shell] });
    const flow = workflow('ops', async (ctx) => ctx.runAgent(ops, 'Free some disk space'));
    const h = await start({
      workflows: [flow],
      guard: { guardrails: { tools: { before: [denyList(['rm -rf', /\bDROP\s+TABLE\b/i])] } } },
    });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('I will not do that.');
    expect(ran).toEqual([]);
    expect(String(model.calls[1]!.toolResults[0]!.output)).toContain(
      `guardrail 'deny-list' blocked the arguments: it contains "rm -rf"`,
    );
    const [verdict] = of(await run.history(), 'guard.verdict');
    expect(verdict!.payload).toMatchObject({
      stage: 'tool.before',
      guardrail: 'deny-list',
      verdict: 'block',
      data: { matched: ['"rm -rf"'] },
    });
  });

  it('fails closed when a guardrail throws: the call is refused and the error journaled', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'crm.customer', args: { id: 'C-9' } }] },
      'Could not read it.',
    ]);
    const flaky = guardrail('flaky-classifier', () => {
      throw new Error('classifier unreachable');
    });
    const support = agent({
      name: 'support',
      description: 'Support',
      instructions: 'Help.',
      model,
      tools: [customers],
      guardrails: { tools: [flaky] },
    });
    const flow = workflow('support', async (ctx) => ctx.runAgent(support, 'Who is C-9?'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('Could not read it.');
    const events = await run.history();
    expect(of(events, 'tool.called')).toEqual([]);
    const [verdict] = of(events, 'guard.verdict');
    expect(verdict!.payload).toMatchObject({
      stage: 'tool.before',
      guardrail: 'flaky-classifier',
      verdict: 'block',
      error: { name: 'Error', message: 'classifier unreachable' },
    });
    expect(verdict!.payload.reason).toContain('fail closed');
  });
});

describe('guardrails on agents and runs', () => {
  it('checks an agent’s task and answer; a block stops the run with GuardrailBlockedError, journaled', async () => {
    const model = scriptedModel(['Sure. Our internal code name is PROJECT-ORCA.']);
    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model,
      guardrails: { input: [redaction()], output: [denyList(['PROJECT-ORCA'], { caseSensitive: true })] },
    });
    const flow = workflow('write', async (ctx) => ctx.runAgent(writer, `Write to ${EMAIL} about the launch`));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toMatchObject({ code: 'GUARDRAIL_BLOCKED' });
    // The model saw the redacted task.
    expect(model.calls[0]!.lastUserText).toBe('Write to [email] about the launch');
    const events = await run.history();
    expect(
      of(events, 'guard.verdict').map((event) => [
        event.payload.stage,
        event.payload.guardrail,
        event.payload.verdict,
      ]),
    ).toEqual([
      ['agent.input', 'redaction', 'rewrite'],
      ['agent.output', 'deny-list', 'block'],
    ]);
    expect(of(events, 'run.failed')[0]!.payload.error).toMatchObject({
      name: 'GuardrailBlockedError',
      message: `Guardrail 'deny-list' blocked the agent.output of agent 'writer': it contains "PROJECT-ORCA"`,
    });
    expect(JSON.stringify(events)).not.toContain(EMAIL);
  });

  it('fails the run closed when an output guardrail throws, with the error journaled', async () => {
    const model = scriptedModel(['All good.']);
    const writer = agent({ name: 'writer', description: 'Writes', instructions: 'Write.', model });
    const flow = workflow('write', async (ctx) => ctx.runAgent(writer, 'Write'));
    const broken = guardrail('broken', () => {
      throw new TypeError('cannot read the policy file');
    });
    const h = await start({ workflows: [flow], guard: { guardrails: { agentOutput: [broken] } } });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toMatchObject({ code: 'GUARDRAIL_BLOCKED' });
    const [verdict] = of(await run.history(), 'guard.verdict');
    expect(verdict!.payload).toMatchObject({
      stage: 'agent.output',
      verdict: 'block',
      error: { name: 'TypeError', message: 'cannot read the policy file' },
    });
  });

  it('rewrites a structured answer with a schema guardrail and keeps the rewrite for replay', async () => {
    const model = scriptedModel([{ output: { title: 'Launch', words: 1200, draft: true } }]);
    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model,
      output: z.object({ title: z.string(), words: z.number(), draft: z.boolean() }),
    });
    const flow = workflow('write', async (ctx) => {
      const answer = await ctx.runAgent(writer, 'Write');
      await ctx.sleep('1h');
      return answer;
    });
    const publishable = schema(z.object({ title: z.string(), words: z.number().max(1000).catch(1000) }), {
      coerce: true,
      name: 'publishable',
    });
    const h = await start({ workflows: [flow], guard: { guardrails: { agentOutput: [publishable] } } });
    const run = await h.baton.start(flow, {});
    await h.settle(run.runId, 'waiting');
    await h.advanceUntil(run.runId, 3_600_000, 'completed');
    // The second activation replayed the check from the journal: same rewritten answer.
    expect(await run.result()).toEqual({ title: 'Launch', words: 1000 });
    const [verdict] = of(await run.history(), 'guard.verdict');
    expect(verdict!.payload).toMatchObject({ verdict: 'rewrite', value: { title: 'Launch', words: 1000 } });
  });

  it('checks a run’s input at the door: a block writes nothing, a rewrite is what is journaled', async () => {
    const flow = workflow('echo', async (_ctx, input: { text: string }) => input.text);
    const h = await start({
      workflows: [flow],
      guard: {
        guardrails: {
          runInput: [
            maxLength({ chars: 200 }),
            guardrail('trim', (input: { text: string }) =>
              input.text === input.text.trim() ? true : rewrite({ text: input.text.trim() }, 'trimmed'),
            ),
          ],
        },
      },
    });
    await expect(h.baton.start(flow, { text: 'x'.repeat(500) })).rejects.toMatchObject({
      code: 'GUARDRAIL_BLOCKED',
      message: expect.stringContaining(`Guardrail 'max-length' blocked the run.input of workflow 'echo'`),
    });
    expect(await h.baton.listRuns()).toEqual([]);

    const run = await h.baton.start(flow, { text: '  hello  ' });
    expect(await run.result()).toBe('hello');
    const started = (await run.history())[0] as JournalEvent<'run.started'>;
    expect(started.payload.input).toEqual({ text: 'hello' });
    expect(started.payload.guard?.map((verdict) => [verdict.guardrail, verdict.verdict])).toEqual([
      ['max-length', 'pass'],
      ['trim', 'rewrite'],
    ]);
  });

  it('refuses guardrails that are not guardrails when the agent is defined', () => {
    expect(() =>
      agent({
        name: 'w',
        description: 'W',
        instructions: 'W',
        model: scriptedModel([]),
        guardrails: { output: ['no swearing' as never] },
      }),
    ).toThrow(
      "Agent 'w' has guardrails.output[0] that is neither a function nor a guardrail (an object with check()).",
    );
  });
});
