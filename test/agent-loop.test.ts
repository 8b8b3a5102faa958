import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { MaxTurnsExceededError } from '../src/agents/errors.ts';
import { requestMessages } from '../src/agents/messages.ts';
import { runAgent } from '../src/agents/run-agent.ts';
import { tool } from '../src/agents/tool.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { scriptedModel, type ScriptedRequest } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of, eventTypes as types } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach();

describe('the agent loop', () => {
  it('answers with text, journaling the model call under the agent’s identity on behalf of the chain', async () => {
    const model = scriptedModel(['Hello, Ada.']);
    const greeter = agent({
      name: 'greeter',
      description: 'Greets people',
      instructions: 'Greet the user by name.',
      model,
    });
    const flow = workflow('greet', async (ctx, input: { name: string }) =>
      ctx.runAgent(greeter, `Greet ${input.name}`),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, { name: 'Ada' }, { as: 'user:alice' });
    expect(await run.result()).toBe('Hello, Ada.');

    const events = await run.history();
    expect(types(events)).toEqual([
      'run.started',
      'agent.started',
      'llm.called',
      'agent.completed',
      'run.completed',
    ]);
    const call = of(events, 'llm.called')[0]!;
    expect(call.actor).toBe('agent:greeter');
    expect(call.onBehalfOf).toEqual(['workflow:greet', 'user:alice']);
    expect(call.payload.provider).toBe('baton-testing');
    expect(call.payload.response.finishReason).toBe('stop');
    expect(call.payload.usage.inputTokens).toBeGreaterThan(0);
    expect(call.payload.cost).toEqual({ usd: 0, priced: false });
    expect(requestMessages(events, call)).toEqual(model.calls[0]!.prompt);
    expect(verifyChain(events).ok).toBe(true);
  });

  it('runs parallel tool calls concurrently, each with its intent journaled before its result', async () => {
    let startedB!: () => void;
    const bStarted = new Promise<void>((resolve) => (startedB = resolve));
    const runs: string[] = [];
    const lookup = tool({
      name: 'docs.lookup',
      description: 'Looks a word up',
      input: z.object({ word: z.string() }),
      effect: 'read',
      async execute({ word }) {
        runs.push(word);
        if (word === 'a') {
          // Finishes only once b has started: the two calls must be in flight together.
          await Promise.race([
            bStarted,
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('ran one after the other')), 10_000),
            ),
          ]);
        } else startedB();
        return { word, meaning: `meaning of ${word}` };
      },
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'docs.lookup', args: { word: 'a' } },
          { name: 'docs.lookup', args: { word: 'b' } },
        ],
      },
      (request) =>
        `Found ${request.toolResults.map((result) => (result.output as { meaning: string }).meaning).join(' and ')}`,
    ]);
    const reader = agent({
      name: 'reader',
      description: 'Reads',
      instructions: 'Look words up.',
      model,
      tools: [lookup],
    });
    const flow = workflow('read', async (ctx) => ctx.runAgent(reader, 'Define a and b'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('Found meaning of a and meaning of b');
    expect(runs.sort()).toEqual(['a', 'b']);
    expect(model.calls[0]!.tools).toEqual(['docs_lookup']);

    const events = await run.history();
    const requested = of(events, 'tool.requested');
    const called = of(events, 'tool.called');
    expect(requested.map((event) => event.payload.args)).toEqual([{ word: 'a' }, { word: 'b' }]);
    expect(called).toHaveLength(2);
    for (const result of called) {
      const intent = requested.find((event) => event.payload.op === result.payload.op)!;
      expect(intent.seq).toBeLessThan(result.seq);
      expect(result.actor).toBe('agent:reader');
    }
    expect(Math.max(...requested.map((event) => event.seq))).toBeLessThan(
      Math.min(...called.map((event) => event.seq)),
    );
  });

  it('hands off to another agent, and the receiving agent acts on behalf of the one that handed off', async () => {
    const billingModel = scriptedModel(['Refunded.']);
    const billing = agent({
      name: 'billing',
      description: 'Refunds and invoices',
      instructions: 'Handle billing.',
      model: billingModel,
    });
    const triageModel = scriptedModel([
      { toolCalls: [{ name: 'transfer_to_billing', args: { reason: 'a refund' } }] },
    ]);
    const triage = agent({
      name: 'triage',
      description: 'Routes tickets',
      instructions: 'Route.',
      model: triageModel,
      handoffs: [billing],
    });
    const flow = workflow('support', async (ctx) => ctx.runAgent(triage, 'I want a refund'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {}, { as: 'user:bob' });
    expect(await run.result()).toBe('Refunded.');

    const events = await run.history();
    const handedOff = of(events, 'agent.handedOff')[0]!;
    expect(handedOff.payload).toMatchObject({ name: 'triage', to: 'billing' });
    const started = of(events, 'agent.started');
    expect(started.map((event) => [event.payload.name, event.payload.via, event.payload.from])).toEqual([
      ['triage', 'run', undefined],
      ['billing', 'handoff', 'triage'],
    ]);
    expect(started[1]!.actor).toBe('agent:billing');
    expect(started[1]!.onBehalfOf).toEqual(['agent:triage', 'workflow:support', 'user:bob']);
    // The billing agent sees the conversation so far, under its own instructions.
    const prompt = billingModel.calls[0]!.prompt;
    expect(prompt[0]).toEqual({ role: 'system', content: 'Handle billing.' });
    expect(prompt.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
  });

  it('returns structured output parsed by the schema, sending an invalid answer back once', async () => {
    const model = scriptedModel(['not json', { output: { total: 42, currency: 'EUR' } }]);
    const summer = agent({
      name: 'summer',
      description: 'Adds up',
      instructions: 'Answer in JSON.',
      model,
      output: z.object({ total: z.number(), currency: z.string() }),
    });
    const flow = workflow('sum', async (ctx) => {
      const result = await runAgent(ctx, summer, 'Add it up');
      return { output: result.output, turns: result.turns };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toEqual({ output: { total: 42, currency: 'EUR' }, turns: 2 });
    expect(model.calls[0]!.options.responseFormat).toMatchObject({ type: 'json' });
    const correction = model.calls[1]!.prompt.at(-1)!;
    expect(correction.role).toBe('user');
    expect(JSON.stringify(correction.content)).toContain('not valid');
  });

  it('fails with MaxTurnsExceededError when the model will not stop, with the journal intact', async () => {
    const ping = tool({
      name: 'ping',
      description: 'Pings',
      input: z.object({}),
      effect: 'read',
      execute: () => 'pong',
    });
    const model = scriptedModel(
      Array.from({ length: 5 }, () => ({ toolCalls: [{ name: 'ping', args: {} }] })),
    );
    const looper = agent({
      name: 'looper',
      description: 'Loops',
      instructions: 'Ping.',
      model,
      tools: [ping],
      maxTurns: 3,
    });
    const flow = workflow('loop', async (ctx) => ctx.runAgent(looper, 'Go'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toThrow(/did not finish within 3 model calls/);
    const record = await run.get();
    expect(record.error?.code).toBe(new MaxTurnsExceededError({ agent: 'looper', maxTurns: 3 }).code);
    const events = await run.history();
    expect(of(events, 'llm.called')).toHaveLength(3);
    expect(of(events, 'tool.called')).toHaveLength(3);
    expect(of(events, 'agent.failed')[0]!.payload.error.code).toBe('MAX_TURNS_EXCEEDED');
    expect(verifyChain(events).ok).toBe(true);
    expect(model.calls).toHaveLength(3);
  });
});

describe('tool calls that go wrong go back to the model', () => {
  it('sends unknown tools and arguments that fail the schema back as tool errors, and gives up after a bounded number', async () => {
    const runs: number[] = [];
    const add = tool({
      name: 'math.add',
      description: 'Adds two integers',
      input: z.object({ a: z.number().int(), b: z.number().int() }),
      effect: 'read',
      execute: ({ a, b }) => {
        runs.push(a + b);
        return a + b;
      },
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'math.multiply', args: { a: 1, b: 2 } }] },
      { toolCalls: [{ name: 'math.add', args: { a: 1, b: 'two' } }] },
      { toolCalls: [{ name: 'math.add', args: { a: 1, b: 2 } }] },
      (request) => `The sum is ${String(request.toolResults[0]!.output)}`,
    ]);
    const adder = agent({ name: 'adder', description: 'Adds', instructions: 'Add.', model, tools: [add] });
    const flow = workflow('add', async (ctx) => ctx.runAgent(adder, '1 + 2?'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('The sum is 3');
    expect(runs).toEqual([3]);
    expect(model.calls[1]!.toolResults[0]).toMatchObject({ isError: true });
    expect(String(model.calls[1]!.toolResults[0]!.output)).toContain(
      "There is no tool named 'math.multiply'. The tools are: math_add.",
    );
    expect(String(model.calls[2]!.toolResults[0]!.output)).toMatch(
      /Invalid arguments for 'math_add'[\s\S]*b/,
    );
    const events = await run.history();
    // Invalid calls never became tool ops; their error messages are stored by the next model call.
    expect(of(events, 'tool.requested')).toHaveLength(1);

    const stubborn = scriptedModel(
      Array.from({ length: 6 }, () => ({ toolCalls: [{ name: 'nope', args: {} }] })),
    );
    const mule = agent({
      name: 'mule',
      description: 'Will not learn',
      instructions: 'x',
      model: stubborn,
      tools: [add],
      maxInvalidToolCalls: 2,
    });
    const failing = workflow('mule', async (ctx) => ctx.runAgent(mule, 'go'));
    h.baton.register(failing);
    const doomed = await h.baton.start(failing, {});
    await expect(doomed.result()).rejects.toThrow(/made 3 invalid tool calls/);
    expect(stubborn.calls).toHaveLength(3);
  });

  it('sends a tool’s failure back to the model, and journals it', async () => {
    const flaky = tool({
      name: 'flaky',
      description: 'Fails',
      input: z.object({}),
      effect: 'read',
      execute: () => {
        throw new Error('the service is down');
      },
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'flaky', args: {} }] },
      (request) => `Saw: ${String(request.toolResults[0]!.output)}`,
    ]);
    const bot = agent({ name: 'bot', description: 'x', instructions: 'x', model, tools: [flaky] });
    const flow = workflow('flaky', async (ctx) => ctx.runAgent(bot, 'go'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('Saw: Error: the service is down');
    const failed = of(await run.history(), 'tool.failed');
    expect(failed[0]!.payload.error.message).toBe('the service is down');
  });
});

describe('agents as tools', () => {
  it('runs another agent as a tool, journaled as its own agent acting for the caller', async () => {
    const researcherModel = scriptedModel([(request) => `Notes on: ${request.lastUserText}`]);
    const researcher = agent({
      name: 'researcher',
      description: 'Researches a topic',
      instructions: 'Research.',
      model: researcherModel,
    });
    const plannerModel = scriptedModel([
      { toolCalls: [{ name: 'researcher', args: { task: 'durable execution' } }] },
      (request) => `Plan based on ${String(request.toolResults[0]!.output)}`,
    ]);
    const planner = agent({
      name: 'planner',
      description: 'Plans',
      instructions: 'Plan.',
      model: plannerModel,
      tools: [researcher],
    });
    const flow = workflow('plan', async (ctx) => ctx.runAgent(planner, 'Make a plan'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {}, { as: 'user:carol' });
    expect(await run.result()).toBe('Plan based on Notes on: durable execution');
    const started = of(await run.history(), 'agent.started');
    expect(started[1]!.payload).toMatchObject({ name: 'researcher', via: 'tool', from: 'planner' });
    expect(started[1]!.onBehalfOf).toEqual(['agent:planner', 'workflow:plan', 'user:carol']);
  });
});

describe('replay', () => {
  it('resumes a run past its agent without calling the model or the tools again', async () => {
    let executions = 0;
    const note = tool({
      name: 'notes.write',
      description: 'Writes a note',
      input: z.object({ text: z.string() }),
      effect: 'write',
      execute: ({ text }) => {
        executions++;
        return { saved: text };
      },
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'notes.write', args: { text: 'hello' } }] },
      'Saved.',
    ]);
    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model,
      tools: [note],
    });
    const flow = workflow('write-then-sleep', async (ctx) => {
      const answer = await ctx.runAgent(writer, 'Write hello');
      await ctx.sleep('1h');
      return answer;
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await h.settle(run.runId, 'waiting');
    h.advance(60 * 60 * 1000);
    expect(await run.result()).toBe('Saved.');
    expect(model.calls).toHaveLength(2);
    expect(executions).toBe(1);
  });
});

describe('agents as tools, in parallel', () => {
  it('run concurrently and replay after a resume, whichever finished first', async () => {
    const slowCalls: number[] = [];
    const slow = tool({
      name: 'slow.fetch',
      description: 'Fetches slowly',
      input: z.object({ topic: z.string() }),
      effect: 'read',
      execute: async ({ topic }) => {
        slowCalls.push(1);
        await new Promise((resolve) => setTimeout(resolve, 40));
        return `slow facts on ${topic}`;
      },
    });
    const fast = tool({
      name: 'fast.fetch',
      description: 'Fetches fast',
      input: z.object({ topic: z.string() }),
      effect: 'read',
      execute: ({ topic }) => `fast facts on ${topic}`,
    });
    const researcher = (name: string, using: string) =>
      agent({
        name,
        description: `Researches with ${using}`,
        instructions: 'Research.',
        model: scriptedModel(
          Array.from(
            { length: 2 },
            () => (request: ScriptedRequest) =>
              request.toolResults.length === 0
                ? {
                    toolCalls: [
                      { name: using, args: { topic: request.lastUserText } },
                      { name: using, args: { topic: 'more' } },
                    ],
                  }
                : `${name}: ${request.toolResults.map((result) => String(result.output)).join('; ')}`,
          ),
        ),
        tools: [using === 'slow.fetch' ? slow : fast],
      });
    const tortoise = researcher('tortoise', 'slow.fetch');
    const hare = researcher('hare', 'fast.fetch');
    const lead = agent({
      name: 'lead',
      description: 'Leads',
      instructions: 'Delegate.',
      model: scriptedModel(
        Array.from(
          { length: 2 },
          () => (request: ScriptedRequest) =>
            request.toolResults.length === 0
              ? {
                  toolCalls: [
                    { name: 'tortoise', args: { task: 'a' } },
                    { name: 'hare', args: { task: 'b' } },
                  ],
                }
              : request.toolResults.map((result) => String(result.output)).join(' | '),
        ),
      ),
      tools: [tortoise, hare],
    });
    const flow = workflow('delegate-then-sleep', async (ctx) => {
      const answer = await ctx.runAgent(lead, 'Find out');
      await ctx.sleep('1h');
      return answer;
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await h.settle(run.runId, 'waiting');
    h.advance(60 * 60 * 1000);
    expect(await run.result()).toBe(
      'tortoise: slow facts on a; slow facts on more | hare: fast facts on b; fast facts on more',
    );
    expect(slowCalls).toHaveLength(2);
    const events = await run.history();
    // The hare's loop finished while the tortoise's tools were still running.
    const completed = of(events, 'agent.completed').map((event) => event.payload.name);
    expect(completed).toEqual(['hare', 'tortoise', 'lead']);
  });
});
