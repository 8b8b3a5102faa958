import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { callTool } from '../src/agents/call-tool.ts';
import { tool } from '../src/agents/tool.ts';
import { Baton } from '../src/baton.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import type { PoolEvent } from '../src/resources/pool-metrics.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../src/testing/index.ts';
import { tempStore } from './support/harness.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

// Model calls name their pool (`agent({ pool })`): each attempt holds a slot, reserves its estimated
// tokens and reports its real usage; a 429 pauses the whole pool for its Retry-After.

const cleanup = cleanupsAfterEach();

// 240 requests per minute, counted per second (rateWindow '1s'): at most 4 in any second.
const RATE = 4;
const WINDOW_MS = 1000;

describe('model calls in a pool', () => {
  it('against a local OpenAI-compatible server: never more than the pool’s rate, a 429 pauses the pool, usage corrects the tokens', async () => {
    const arrivals: number[] = [];
    const server: OpenAICompatibleServer = await startOpenAICompatibleServer((request) => {
      arrivals.push(Date.now());
      if (request.index === 1) return { status: 429, message: 'Rate limit reached', retryAfter: 1 };
      return {
        text: `answer ${request.index}`,
        usage: { promptTokens: 10, completionTokens: 5 },
        delayMs: 20,
      };
    });
    cleanup.push(() => server.close());
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);

    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model: `openai-compatible:${server.url}#test-model`,
      maxOutputTokens: 100,
      pool: 'llm',
      retry: { maxAttempts: 3, initialDelay: '100ms' },
    });
    const write = workflow('write', async (ctx, input: { n: number }) =>
      ctx.runAgent(writer, `Write piece ${input.n}`),
    );
    const baton = await Baton.open({
      store,
      workflows: [write],
      pools: {
        llm: { concurrency: 2, requestsPerMinute: RATE * 60, tokensPerMinute: 1_000_000, rateWindow: '1s' },
      },
      worker: { concurrency: 16, pollMs: 20 },
    });
    cleanup.push(() => baton.close());
    const pool: PoolEvent[] = [];
    baton.pools.subscribe((event) => pool.push(event));

    const runs = await Promise.all(Array.from({ length: 9 }, (_, n) => baton.start(write, { n })));
    const answers = await Promise.all(runs.map((run) => run.result({ timeout: '60s' })));
    expect(answers.every((answer) => String(answer).startsWith('answer '))).toBe(true);

    // Ten requests reached the server (nine runs, one of them twice after the 429)…
    expect(arrivals).toHaveLength(10);
    // …after the 429, nothing within its Retry-After but the one call already holding the pool's other slot…
    const limitedAt = arrivals[0]!;
    expect(arrivals.slice(1).filter((at) => at < limitedAt + 1000).length).toBeLessThanOrEqual(1);
    // …never more than RATE in any window…
    for (const from of arrivals) {
      expect(arrivals.filter((at) => at >= from && at < from + WINDOW_MS).length).toBeLessThanOrEqual(RATE);
    }
    // …and never more than two at once.
    const marks = [
      ...server.requests.map((request) => ({ at: request.sequence, delta: 1 })),
      ...server.responses.map((response) => ({ at: response.sequence, delta: -1 })),
    ].sort((a, b) => a.at - b.at);
    let inFlight = 0;
    let most = 0;
    for (const mark of marks) most = Math.max(most, (inFlight += mark.delta));
    expect(most).toBeLessThanOrEqual(2);

    // Every successful call gave back what it really used (10 + 5 tokens), not its estimate.
    const released = pool.filter(
      (event): event is Extract<PoolEvent, { type: 'pool.released' }> => event.type === 'pool.released',
    );
    expect(released.filter((event) => event.outcome === 'succeeded').map((event) => event.tokens)).toEqual(
      Array(9).fill(15),
    );
    expect(released.filter((event) => event.outcome === 'rate-limited')).toHaveLength(1);

    // The 429 is journaled as a failed attempt of the model call, then retried.
    const histories = await Promise.all(runs.map((run) => run.history()));
    const failed = histories
      .flat()
      .filter((event): event is JournalEvent<'llm.attempt.failed'> => event.type === 'llm.attempt.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload.error).toMatchObject({ code: 'MODEL_PROVIDER_ERROR' });
    expect(failed[0]!.payload.error.message).toContain('HTTP 429');
    expect(histories.flat().filter((event) => event.type === 'llm.called')).toHaveLength(9);
  });

  it('an agent naming a pool that is not configured fails at its first use, before any model call', async () => {
    const server = await startOpenAICompatibleServer(['never sent']);
    cleanup.push(() => server.close());
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const writer = agent({
      name: 'writer',
      description: 'Writes',
      instructions: 'Write.',
      model: `openai-compatible:${server.url}#test-model`,
      pool: 'openia',
    });
    const write = workflow('write-unknown-pool', async (ctx) => ctx.runAgent(writer, 'Write'));
    const baton = await Baton.open({
      store,
      workflows: [write],
      pools: { openai: { concurrency: 1 } },
      worker: { pollMs: 20 },
    });
    cleanup.push(() => baton.close());
    const run = await baton.start(write, {});
    await expect(run.result({ timeout: '30s' })).rejects.toThrow(
      "Agent 'writer' names the resource pool 'openia', which is not configured",
    );
    expect(server.requests).toHaveLength(0);
    expect((await run.history()).map((event) => event.type)).toEqual(['run.started', 'run.failed']);
  });

  it('tool calls wait in their pool; a call parked before it got its slot is not in doubt when it resumes', async () => {
    let inFlight = 0;
    let most = 0;
    const ran: string[] = [];
    const post = tool({
      name: 'ledger.post',
      description: 'Posts an entry',
      input: z.object({ entry: z.string() }),
      effect: 'write',
      pool: 'ledger',
      execute: async ({ entry }) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inFlight--;
        ran.push(entry);
        return { posted: entry };
      },
    });
    const book = workflow('book', async (ctx, input: { entry: string }) => callTool(ctx, post, input));
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    // Waits longer than 10 ms park the run: most calls here park before they get the slot.
    const baton = await Baton.open({
      store,
      workflows: [book],
      pools: { ledger: { concurrency: 1 } },
      inlineRetryMs: 10,
      worker: { pollMs: 20 },
    });
    cleanup.push(() => baton.close());
    let parked = 0;
    baton.pools.subscribe((event) => void (event.type === 'pool.parked' && parked++));
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, n) => baton.start(book, { entry: `e${n}` })),
    );
    const results = await Promise.all(runs.map((run) => run.result({ timeout: '60s' })));

    expect(results).toEqual(Array.from({ length: 6 }, (_, n) => ({ posted: `e${n}` })));
    expect(most).toBe(1);
    expect(parked).toBeGreaterThan(0);
    expect(ran.sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    for (const run of runs) {
      const types = (await run.history()).map((event) => event.type);
      expect(types).toEqual(['run.started', 'tool.requested', 'tool.called', 'run.completed']);
    }
  });
});
