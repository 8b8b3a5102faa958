import { generateText } from 'ai';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { judgeVerifier } from '../src/routing/judge-verifier.ts';
import type { ModelChoice } from '../src/routing/model-price.ts';
import { callSelectedModel, type ModelStrategy } from '../src/routing/model-selection.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { scriptedModel, type ScriptedRequest } from '../src/testing/scripted-model.ts';
import type { Figure, Measurement } from './harness.ts';

const QUESTIONS = 300;
/** Each model answers the questions easier than its reach correctly (difficulty is uniform in [0, 1)). */
const MODELS = [
  { id: 'openai:gpt-4.1-nano', price: { input: 0.1, output: 0.4 }, reach: 0.55 },
  { id: 'openai:gpt-4.1-mini', price: { input: 0.4, output: 1.6 }, reach: 0.8 },
  { id: 'openai:gpt-4.1', price: { input: 2, output: 8 }, reach: 0.93 },
] as const;
const JUDGE = { id: 'openai:gpt-4.1-nano', price: { input: 0.1, output: 0.4 } };
const USAGE = { inputTokens: 400, outputTokens: 150 };

/** A deterministic number in [0, 1) for a text (FNV-1a, then a multiply-shift mix). */
function unit(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
  return ((hash ^ (hash >>> 12)) >>> 0) / 2 ** 32;
}

const difficulty = (question: number): number => unit(`difficulty ${question}`);
const questionOf = (text: string): number => Number(/question (\d+)/.exec(text)?.[1] ?? -1);

/** A scripted model answering right or wrong by the question's difficulty. */
function answering(model: (typeof MODELS)[number]) {
  const turn = (request: ScriptedRequest) => {
    const question = questionOf(request.lastUserText);
    const right = difficulty(question) < model.reach;
    return { text: `${right ? 'right' : 'wrong'} answer to question ${question}`, usage: USAGE };
  };
  return scriptedModel(
    Array.from({ length: QUESTIONS * 4 }, () => turn),
    { modelId: model.id },
  );
}

/** A scripted judge: right answers score in [0.55, 1), wrong ones in [0, 0.8) — below 0.8 it is fooled sometimes. */
function judge() {
  const turn = (request: ScriptedRequest) => {
    const text = request.lastUserText;
    const answer = /Answer:\n(.*)\n/.exec(text)?.[1] ?? '';
    const noise = unit(`judge ${answer}`);
    const score = answer.startsWith('right') ? 0.55 + 0.45 * noise : 0.8 * noise;
    return { text: score.toFixed(3), usage: { inputTokens: 500, outputTokens: 4 } };
  };
  return scriptedModel(
    Array.from({ length: QUESTIONS * 8 }, () => turn),
    { modelId: 'judge' },
  );
}

interface Outcome {
  label: string;
  costPerAnswer: number;
  acceptedRate: number;
}

async function runStrategy(
  bench: { tempDir(prefix: string): string },
  label: string,
  strategy: (
    models: Record<string, ReturnType<typeof answering>>,
  ) => ModelStrategy<{ question: number }, string>,
): Promise<Outcome> {
  const models = Object.fromEntries(MODELS.map((model) => [model.id, answering(model)]));
  const answer = defineWorkflow('answer-all', async (ctx) => {
    let cost = 0;
    let right = 0;
    for (let question = 0; question < QUESTIONS; question++) {
      const result = await callSelectedModel(ctx, {
        name: `q${question}`,
        strategy: strategy(models),
        request: { question },
        call: async (model, request) => {
          const reply = await generateText({
            model: models[model.id]!,
            prompt: `Answer question ${request.question}.`,
            maxRetries: 0,
          });
          return { output: reply.text, usage: reply.usage };
        },
      });
      cost += result.costUsd;
      if (result.output.startsWith('right')) right++;
    }
    return { cost, right };
  });
  const store = SqliteStore.open({ path: `${bench.tempDir('cascade')}/baton.db` });
  const baton = await Baton.open({ store, workflows: [answer], telemetry: false, log: () => {} });
  try {
    const run = await baton.start(answer, {});
    const result = await run.result();
    return { label, costPerAnswer: result.cost / QUESTIONS, acceptedRate: result.right / QUESTIONS };
  } finally {
    await baton.close();
    await store.close();
  }
}

/**
 * (cascade) Cost at quality (FrugalGPT-style): 300 questions of uniform difficulty answered by
 * scripted models of rising reach and price, through `callSelectedModel` in a Baton run (every attempt and
 * verdict journaled). The cascade nano → mini → full escalates when a scripted judge (itself fooled
 * now and then) scores an answer below its threshold. It is compared with always calling the best
 * model, at the lowest judge threshold whose accepted-answer rate matches the best model's.
 */
export const cascadeCost: Figure = {
  id: 'cascade',
  title: '(cascade) Cost per answer of a verified cascade against always the best model, at equal quality',
  async run(bench) {
    const best: ModelChoice = { id: MODELS[2].id, price: MODELS[2].price };
    const always = await runStrategy(bench, 'always the best model', () => ({
      strategy: 'fixed',
      model: best,
    }));
    const cascades: (Outcome & { threshold: number })[] = [];
    for (const threshold of [0.6, 0.7, 0.8]) {
      bench.log(`cascade: judge threshold ${threshold}`);
      const outcome = await runStrategy(bench, `cascade, judge threshold ${threshold}`, () => ({
        strategy: 'cascade',
        models: MODELS.map((model) => ({ id: model.id, price: model.price })),
        threshold,
        verify: judgeVerifier({ model: judge(), id: JUDGE.id, price: JUDGE.price }),
      }));
      cascades.push({ ...outcome, threshold });
    }
    const measurements: Measurement[] = [];
    for (const outcome of [always, ...cascades]) {
      measurements.push(
        {
          label: `${outcome.label}: cost per answer`,
          value: outcome.costPerAnswer * 1e6,
          unit: 'µUSD',
          samples: [outcome.costPerAnswer * 1e6],
        },
        {
          label: `${outcome.label}: accepted-answer rate`,
          value: outcome.acceptedRate,
          unit: 'share',
          samples: [outcome.acceptedRate],
        },
      );
    }
    const equal = cascades.find((outcome) => outcome.acceptedRate >= always.acceptedRate);
    return {
      measurements,
      ratio: {
        label: equal
          ? `cost per answer, cascade (threshold ${equal.threshold}) ÷ always the best model, at equal accepted-answer rate`
          : 'no cascade threshold matched the best model’s accepted-answer rate',
        value: equal ? equal.costPerAnswer / always.costPerAnswer : Number.NaN,
        aim: { atMost: 1 },
      },
      notes: [
        `${QUESTIONS} questions, difficulty uniform in [0, 1); nano, mini and gpt-4.1 answer right below 0.55, 0.80 and 0.93; ` +
          `${USAGE.inputTokens} input and ${USAGE.outputTokens} output tokens a call; the judge (nano price) scores right answers in [0.55, 1), wrong ones in [0, 0.8).`,
      ],
    };
  },
};
