import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { classifyModelError } from '../src/agents/model-call.ts';
import { resolveModel } from '../src/agents/models.ts';
import type { ModelStreamEvent } from '../src/agents/runtime.ts';
import { tool } from '../src/agents/tool.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import {
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
  type ServerScript,
} from '../src/testing/index.ts';
import { harness, type Harness } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

// The real provider path: @ai-sdk/openai-compatible, resolved from an `openai-compatible:` model id,
// talking HTTP to a local server that speaks the Chat Completions wire protocol.

const cleanup = cleanupsAfterEach();
async function server(script: ServerScript): Promise<OpenAICompatibleServer> {
  const started = await startOpenAICompatibleServer(script);
  cleanup.push(() => started.close());
  return started;
}
async function start(options: Parameters<typeof harness>[0]): Promise<Harness> {
  const h = await harness(options);
  cleanup.push(() => h.close());
  return h;
}

const weather = tool({
  name: 'weather.today',
  description: 'Today’s weather in a city',
  input: z.object({ city: z.string() }),
  effect: 'read',
  execute: ({ city }) => ({ city, sky: 'clear', celsius: 21 }),
});

function forecaster(url: string, options: { retry?: { maxAttempts: number; initialDelay: string } } = {}) {
  return agent({
    name: 'forecaster',
    description: 'Answers questions about the weather',
    instructions: 'Use the weather tool.',
    model: `openai-compatible:${url}#test-model`,
    tools: [weather],
    temperature: 0,
    ...(options.retry ? { retry: options.retry } : {}),
  });
}

describe('models through the AI SDK, against a local OpenAI-compatible server', () => {
  it('streams a tool call and a final answer, journaling the call with usage, and shows tokens live', async () => {
    const s = await server([
      {
        toolCalls: [{ name: 'weather_today', args: { city: 'Lyon' } }],
        usage: { promptTokens: 120, completionTokens: 12 },
      },
      { text: 'It is clear and 21 °C in Lyon.', usage: { promptTokens: 160, completionTokens: 9 } },
    ]);
    const live: ModelStreamEvent[] = [];
    const bot = forecaster(s.url);
    const flow = workflow('weather', async (ctx, input: { city: string }) =>
      ctx.runAgent(bot, `Weather in ${input.city}?`),
    );
    const h = await start({
      workflows: [flow],
      agents: { onStream: (event) => live.push(event), prices: { 'test-model': { input: 1, output: 2 } } },
    });
    const run = await h.baton.start(flow, { city: 'Lyon' });
    expect(await run.result()).toBe('It is clear and 21 °C in Lyon.');

    expect(s.requests).toHaveLength(2);
    expect(s.requests.every((request) => request.stream)).toBe(true);
    expect(s.requests[0]!.body.tools[0].function.name).toBe('weather_today');
    expect(s.requests[0]!.body.temperature).toBe(0);
    const second = s.requests[1]!.messages;
    expect(second.map((message: { role: string }) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
    ]);
    expect(JSON.parse(second[3].content)).toEqual({ city: 'Lyon', sky: 'clear', celsius: 21 });

    const events = await run.history();
    const calls = of(events, 'llm.called');
    expect(calls.map((call) => call.payload.usage)).toEqual([
      { inputTokens: 120, outputTokens: 12 },
      { inputTokens: 160, outputTokens: 9 },
    ]);
    expect(calls[0]!.payload.cost).toEqual({ usd: (120 * 1 + 12 * 2) / 1e6, priced: true });
    expect(calls[0]!.payload.response).toMatchObject({ id: 'chatcmpl-1', finishReason: 'tool-calls' });
    expect(calls[0]!.payload.provider).toBe('openai-compatible.chat');
    expect(calls[1]!.payload.request.base).toBeDefined();
    expect(verifyChain(events).ok).toBe(true);

    const text = live
      .filter((event) => event.type === 'text')
      .map((event) => event.delta)
      .join('');
    expect(text).toBe('It is clear and 21 °C in Lyon.');
    expect(live.filter((event) => event.type === 'text').length).toBeGreaterThan(1);
    expect(live.some((event) => event.type === 'tool-call' && event.toolName === 'weather_today')).toBe(true);
  });

  it('retries a 429, waiting at least its Retry-After, with the failed attempt journaled', async () => {
    const s = await server([{ status: 429, message: 'Rate limit reached', retryAfter: 1 }, 'Sunny.']);
    const bot = forecaster(s.url);
    const flow = workflow('weather-429', async (ctx) => ctx.runAgent(bot, 'Weather?'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('Sunny.');
    expect(s.requests).toHaveLength(2);
    const events = await run.history();
    const failed = of(events, 'llm.attempt.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload.error).toMatchObject({ code: 'MODEL_PROVIDER_ERROR' });
    expect(failed[0]!.payload.error.message).toContain('HTTP 429');
    // The journaled retry time honours Retry-After: 1 (the clock is the harness's, so this is data, not timing).
    expect(Date.parse(failed[0]!.payload.retryAt) - Date.parse(failed[0]!.at)).toBeGreaterThanOrEqual(1000);
    expect(of(events, 'llm.called')[0]!.payload.attempt).toBe(2);
  });

  it('retries a 500, and fails with a clear error when the server keeps failing', async () => {
    const s = await server([{ status: 500, message: 'upstream exploded' }, 'Recovered.']);
    const bot = forecaster(s.url, { retry: { maxAttempts: 2, initialDelay: '10ms' } });
    const flow = workflow('weather-500', async (ctx) => ctx.runAgent(bot, 'Weather?'));
    const h = await start({ workflows: [flow] });
    expect(await (await h.baton.start(flow, {})).result()).toBe('Recovered.');
    expect(s.requests).toHaveLength(2);

    const down = await server(() => ({ status: 503, message: 'overloaded' }));
    const doomed = forecaster(down.url, { retry: { maxAttempts: 3, initialDelay: '10ms' } });
    const failing = workflow('weather-503', async (ctx) => ctx.runAgent(doomed, 'Weather?'));
    h.baton.register(failing);
    const run = await h.baton.start(failing, {});
    await expect(run.result()).rejects.toThrow(
      /could not call model 'openai-compatible.chat:test-model' \(3 attempt\(s\)\).*HTTP 503.*overloaded/,
    );
    expect(down.requests).toHaveLength(3);
    const events = await run.history();
    expect(of(events, 'llm.attempt.failed')).toHaveLength(2);
    expect(of(events, 'llm.failed')).toHaveLength(1);
    expect(of(events, 'agent.failed')[0]!.payload.error.code).toBe('MODEL_CALL_FAILED');
    expect(verifyChain(events).ok).toBe(true);
  });

  it('fails on a malformed streamed body with an error that says so, without retrying', async () => {
    const s = await server(() => ({ malformed: true }));
    const bot = forecaster(s.url);
    const flow = workflow('weather-garbage', async (ctx) => ctx.runAgent(bot, 'Weather?'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toThrow(/malformed response/);
    expect(s.requests).toHaveLength(1);
    const events = await run.history();
    expect(of(events, 'llm.failed')[0]!.payload.error.code).toBe('MODEL_RESPONSE_MALFORMED');
    expect(verifyChain(events).ok).toBe(true);
  });

  it('defines an agent without its API key; its run fails at the first model call, naming the variable', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const needsKey = agent({
        name: 'needs-key',
        description: 'x',
        instructions: 'x',
        model: 'openai:gpt-4.1-mini',
      });
      expect(() =>
        agent({ name: 'typo', description: 'x', instructions: 'x', model: 'opnai:gpt-4.1-mini' }),
      ).toThrow(/no provider 'opnai'/);
      const flow = workflow('keyless', async (ctx) => {
        const before = await ctx.step('before', () => 'read without a key');
        return [before, await ctx.runAgent(needsKey, 'hi')];
      });
      const h = await start({ workflows: [flow] });
      const run = await h.baton.start(flow, {});
      const failure = await run.result().then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(failure?.message).toContain('OPENAI_API_KEY');
      const events = await run.history();
      expect(of(events, 'step.completed')).toHaveLength(1);
      expect(of(events, 'llm.called')).toHaveLength(0);
      expect(events.at(-1)!.type).toBe('run.failed');
      // Terminal: one attempt, not retried.
      expect(failure?.message).toContain('(1 attempt(s))');
      expect(failure?.message).toContain('it is not set');
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});

describe('the test server', () => {
  it('answers non-streaming requests too, and a malformed body reads as a malformed response', async () => {
    const s = await server(['Plain answer.', { malformed: '<html>oops</html>' }]);
    const model = resolveModel(`openai-compatible:${s.url}#plain`);
    const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }];
    const result = await model.doGenerate({ prompt });
    expect(result.content).toEqual([{ type: 'text', text: 'Plain answer.' }]);
    expect(s.requests[0]!.stream).toBe(false);
    const failure = await model.doGenerate({ prompt }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const classified = classifyModelError(failure, 'plain');
    expect(classified.code).toBe('MODEL_RESPONSE_MALFORMED');
    expect(classified.message).toContain('not valid JSON');
    expect(classified.message).toContain('<html>oops');
  });
});
