import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { afterEach, describe, expect, it } from 'vitest';
import { defineWorkflow } from '../../src/engine/workflow.ts';
import { costReport } from '../../src/journal/run-model/cost-report.ts';
import { estimateDifficulty } from '../../src/routing/difficulty.ts';
import { judgeVerifier } from '../../src/routing/judge-verifier.ts';
import type { ModelChoice } from '../../src/routing/model-price.ts';
import { callSelectedModel, type ModelStrategy } from '../../src/routing/model-selection.ts';
import { harness, type Harness } from '../support/harness.ts';

const mini: ModelChoice = { id: 'test:mini', price: { input: 0.1, output: 0.4 } };
const large: ModelChoice = { id: 'test:large', price: { input: 2, output: 8 } };

/** A scripted pair of models that records which model answered which prompt. */
function scriptedModels(answers: Record<string, (prompt: string) => string>) {
  const calls: { model: string; prompt: string }[] = [];
  const call = async (model: ModelChoice, request: { prompt: string }) => {
    calls.push({ model: model.id, prompt: request.prompt });
    return { output: answers[model.id]!(request.prompt), usage: { inputTokens: 100, outputTokens: 50 } };
  };
  return { calls, call };
}

const open: Harness[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

describe('model routing', () => {
  it('a cascade escalates exactly when the verifier rejects', async () => {
    const models = scriptedModels({
      'test:mini': (prompt) => (prompt.includes('easy') ? 'ok: 4' : 'not sure'),
      'test:large': () => 'ok: a careful answer',
    });
    const verdicts: string[] = [];
    const strategy: ModelStrategy<{ prompt: string }, string> = {
      strategy: 'cascade',
      models: [mini, large],
      verify: (output) => {
        verdicts.push(output);
        return output.startsWith('ok');
      },
    };
    const flow = defineWorkflow('cascade', async (ctx, input: { prompts: string[] }) => {
      const results = [];
      for (const [index, prompt] of input.prompts.entries()) {
        results.push(
          await callSelectedModel(ctx, {
            name: `q${index}`,
            strategy,
            request: { prompt },
            call: models.call,
          }),
        );
      }
      return results.map((result) => ({
        model: result.model,
        attempts: result.attempts,
        output: result.output,
      }));
    });
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const prompts = ['easy: 2+2', 'hard: prove it', 'easy: 3+1', 'hard: design it'];
    const run = await h.baton.start(flow, { prompts });
    const results = (await run.result()) as { model: string; attempts: number; output: string }[];
    expect(results.map((r) => r.model)).toEqual(['test:mini', 'test:large', 'test:mini', 'test:large']);
    expect(results.map((r) => r.attempts)).toEqual([1, 2, 1, 2]);
    // The large model was called for the rejected prompts and only for them; the verifier never saw the last model's answer.
    expect(models.calls.filter((c) => c.model === 'test:large').map((c) => c.prompt)).toEqual([
      'hard: prove it',
      'hard: design it',
    ]);
    expect(verdicts).toEqual(['ok: 4', 'not sure', 'ok: 4', 'not sure']);

    const events = await run.history();
    const routed = events.filter((e) => e.type === 'model.routed').map((e) => e.payload);
    expect(routed.map((r) => r.strategy)).toEqual(['cascade', 'cascade', 'cascade', 'cascade']);
    expect(routed[1]!.reason).toMatch(
      /test:mini rejected by the verifier \(check failed\); escalated to the last model, test:large/,
    );
    expect(routed[0]!.reason).toMatch(/test:mini accepted by the verifier/);
    const attempted = events.filter((e) => e.type === 'model.attempted').map((e) => e.payload);
    expect(attempted.map((a) => [a.model, a.verdict?.accepted])).toEqual([
      ['test:mini', true],
      ['test:mini', false],
      ['test:large', undefined],
      ['test:mini', true],
      ['test:mini', false],
      ['test:large', undefined],
    ]);

    const report = costReport(events);
    // mini: 4 calls × (100 × 0.1 + 50 × 0.4) / 1e6; large: 2 × (100 × 2 + 50 × 8) / 1e6
    expect(report.byModel.find((line) => line.model === 'test:mini')).toEqual({
      model: 'test:mini',
      calls: 4,
      inputTokens: 400,
      outputTokens: 200,
      usd: 0.00012,
      unpriced: 0,
    });
    expect(report.byModel.find((line) => line.model === 'test:large')).toEqual({
      model: 'test:large',
      calls: 2,
      inputTokens: 200,
      outputTokens: 100,
      usd: 0.0012,
      unpriced: 0,
    });
    expect(report.total.usd).toBeCloseTo(0.00132, 9);
    expect(report.byAgent.find((line) => line.agent === 'workflow:cascade')!.calls).toBe(6);
    expect(report.byRun.find((line) => line.runId === run.runId)!.calls).toBe(6);
  });

  it('a routed call is not made again on replay', async () => {
    const models = scriptedModels({ 'test:mini': () => 'cheap answer', 'test:large': () => 'good answer' });
    const flow = defineWorkflow('cascade-replay', async (ctx) => {
      const first = await callSelectedModel(ctx, {
        name: 'answer',
        strategy: { strategy: 'cascade', models: [mini, large], verify: () => 0.3, threshold: 0.6 },
        request: { prompt: 'anything' },
        call: models.call,
      });
      await ctx.waitFor('go');
      return first;
    });
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    expect(models.calls).toHaveLength(2);
    await h.baton.signal(run.runId, 'go');
    const result = (await run.result()) as { output: string; replayed: boolean; reason: string };
    expect(result).toMatchObject({ output: 'good answer', replayed: true });
    expect(result.reason).toContain('score 0.3 < threshold 0.6');
    expect(models.calls).toHaveLength(2);
  });

  it('a judge model over a provider wire protocol decides the cascade, and its cost is reported', async () => {
    const judged: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const prompt = (JSON.parse(body) as { messages: { role: string; content: string }[] }).messages.at(
          -1,
        )!.content;
        judged.push(prompt);
        const score = prompt.includes('Answer:\nParis') ? '0.95' : 'Score: 0.2';
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1_767_225_600,
            model: 'judge-1',
            choices: [{ index: 0, message: { role: 'assistant', content: score }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 200, completion_tokens: 3, total_tokens: 203 },
          }),
        );
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const provider = createOpenAICompatible({ name: 'local', baseURL: `http://127.0.0.1:${port}/v1` });
    const verify = judgeVerifier({
      model: provider.chatModel('judge-1'),
      id: 'local:judge-1',
      threshold: 0.7,
      price: { input: 1, output: 1 },
    });

    const models = scriptedModels({
      'test:mini': (prompt) => (prompt.includes('France') ? 'Paris' : 'I am not sure'),
      'test:large': () => 'Canberra',
    });
    const flow = defineWorkflow('judged', async (ctx) => {
      const strategy: ModelStrategy<{ prompt: string }, string> = {
        strategy: 'cascade',
        models: [mini, large],
        verify,
      };
      const france = await callSelectedModel(ctx, {
        name: 'france',
        strategy,
        request: { prompt: 'Capital of France?' },
        call: models.call,
      });
      const australia = await callSelectedModel(ctx, {
        name: 'australia',
        strategy,
        request: { prompt: 'Capital of Australia?' },
        call: models.call,
      });
      return [france.model, australia.model, australia.costUsd];
    });
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const run = await h.baton.start(flow, null);
    const [franceModel, australiaModel, australiaCost] = (await run.result()) as [string, string, number];
    expect([franceModel, australiaModel]).toEqual(['test:mini', 'test:large']);
    expect(judged).toHaveLength(2);
    const attempted = (await run.history()).filter((e) => e.type === 'model.attempted').map((e) => e.payload);
    expect(attempted[0]!.verdict).toMatchObject({
      accepted: true,
      score: 0.95,
      judge: { model: 'local:judge-1', usage: { inputTokens: 200, outputTokens: 3 } },
    });
    expect(attempted[1]!.verdict).toMatchObject({ accepted: false, score: 0.2 });
    // mini 0.00003 + judge (203 tokens at $1/M) 0.000203 + large 0.0006
    expect(australiaCost).toBeCloseTo(0.000833, 9);
    const report = costReport(await run.history());
    expect(report.byModel.find((line) => line.model === 'local:judge-1')).toEqual({
      model: 'local:judge-1',
      calls: 2,
      inputTokens: 400,
      outputTokens: 6,
      usd: 0.000406,
      unpriced: 0,
    });
  });

  it('routes by difficulty, and checks strategies before calling anything', async () => {
    expect(estimateDifficulty('What is the capital of France?')).toBeLessThan(0.2);
    const hard =
      'Design a sharded rate limiter. Explain the trade-offs step by step, prove it never admits more than N requests, ' +
      'and compare it with a token bucket:\n```ts\nfunction admit(key: string) { return true; }\n```';
    expect(estimateDifficulty(hard)).toBeGreaterThan(0.5);

    const models = scriptedModels({ 'test:mini': () => 'short', 'test:large': () => 'long' });
    const tiers = [
      { upTo: 0.4, model: mini },
      { upTo: 1, model: large },
    ];
    const flow = defineWorkflow('by-difficulty', async (ctx, input: { prompts: string[] }) => {
      const out = [];
      for (const [index, prompt] of input.prompts.entries()) {
        const result = await callSelectedModel(ctx, {
          name: `p${index}`,
          strategy: { strategy: 'difficulty', tiers },
          request: { prompt },
          call: models.call,
        });
        out.push([result.model, result.reason]);
      }
      return out;
    });
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const run = await h.baton.start(flow, { prompts: ['What is the capital of France?', hard] });
    const out = (await run.result()) as [string, string][];
    expect(out.map(([model]) => model)).toEqual(['test:mini', 'test:large']);
    expect(out[0]![1]).toMatch(/^difficulty 0\.\d+ ≤ 0.4: test:mini$/);

    const bad = defineWorkflow('bad-strategy', async (ctx) => {
      const errors: string[] = [];
      const attempts: ModelStrategy[] = [
        { strategy: 'cascade', models: [mini, large], verify: () => true, threshold: 1.2 },
        { strategy: 'difficulty', tiers: [{ upTo: 0.5, model: mini }] },
        {
          strategy: 'difficulty',
          tiers: [
            { upTo: 0.6, model: mini },
            { upTo: 0.3, model: large },
          ],
        },
        { strategy: 'fixed', model: { id: 'x', price: { input: -1, output: 0 } } },
      ];
      for (const strategy of attempts) {
        await callSelectedModel(ctx, {
          name: 'bad',
          strategy,
          request: { prompt: 'q' },
          call: models.call,
        }).catch((e: Error) => errors.push(e.message));
      }
      return errors;
    });
    const h2 = await harness({ workflows: [bad] });
    open.push(h2);
    const badRun = await h2.baton.start(bad, null);
    expect(await badRun.result()).toEqual([
      'The cascade threshold must be a number at least 0 and at most 1, got 1.2.',
      'The last difficulty tier must reach upTo 1 (it reaches 0.5), so every estimate has a model.',
      "Difficulty tiers must rise: tier 2's upTo 0.3 is not above 0.6.",
      "The input price of model 'x' must be a finite number of USD per million tokens, at least 0.",
    ]);
    expect((await badRun.history()).map((e) => e.type)).toEqual(['run.started', 'run.completed']);
  });
});
