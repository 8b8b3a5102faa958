import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import type { ModelSpec } from '../agents/models.ts';
import { callCost } from '../routing/prices.ts';
import { InvalidArgumentError } from '../errors.ts';
import { checkStages, textOf, type Guardrail, type GuardrailContext, type GuardStage } from './guardrail.ts';

export interface JudgeOptions {
  /** The judge: a model id (`openai:gpt-4.1-mini`) or an AI SDK model, resolved as agents resolve theirs. */
  model: ModelSpec;
  /** What an acceptable value is, in plain words: the judge passes or fails the value against it. */
  rubric: string;
  name?: string;
  stages?: readonly GuardStage[];
  /** The judge's answer length. Default 200 tokens. */
  maxOutputTokens?: number;
}

const INSTRUCTIONS =
  'You are a strict reviewer. You are given a rubric and a text to review. Decide whether the text ' +
  'meets the rubric. Answer with PASS or FAIL on the first line, and one short sentence saying why on the second.';

/**
 * A model-based check: a judge model reads the value against a rubric and passes or fails it. Its
 * answer, usage and cost are journaled with the verdict (`guard.verdict` data), so a replay reads
 * the verdict from the journal and never asks the judge again. An answer that says neither PASS nor
 * FAIL, or a judge that fails, blocks (fail closed).
 *
 * @example judge({ model: 'openai:gpt-4.1-mini', rubric: 'The reply gives no legal advice and names no other customer.' })
 */
export function judge(options: JudgeOptions): Guardrail {
  if (typeof options.rubric !== 'string' || options.rubric.trim() === '') {
    throw new InvalidArgumentError('judge() needs a rubric: what an acceptable value is.');
  }
  if (options.model === undefined || options.model === null)
    throw new InvalidArgumentError('judge() needs a model.');
  const name = options.name ?? 'judge';
  return Object.freeze({
    kind: 'guardrail' as const,
    name,
    stages: checkStages(name, options.stages),
    check: async (value: unknown, context: GuardrailContext) => {
      const model = context.models.resolve(options.model, `guardrail '${name}'`);
      const prompt: LanguageModelV4CallOptions['prompt'] = [
        { role: 'system', content: INSTRUCTIONS },
        {
          role: 'user',
          content: [
            {
              type: 'text',
              text: `Rubric:\n${options.rubric}\n\nText (${context.stage}):\n${textOf(value)}`,
            },
          ],
        },
      ];
      const result = await model.doGenerate({
        prompt,
        maxOutputTokens: options.maxOutputTokens ?? 200,
        temperature: 0,
      });
      const answer = result.content
        .map((part) => (part.type === 'text' ? part.text : ''))
        .join('')
        .trim();
      const usage = {
        inputTokens: result.usage.inputTokens.total ?? 0,
        outputTokens: result.usage.outputTokens.total ?? 0,
      };
      const cost = callCost(context.models.price(model.provider, model.modelId), usage);
      const data = {
        judge: `${model.provider}:${model.modelId}`,
        answer: answer.slice(0, 500),
        usage,
        costUsd: cost.usd,
      };
      const [first = '', ...rest] = answer.split('\n');
      const why = rest.join(' ').trim() || first.replace(/^\W*(PASS|FAIL)\W*/i, '').trim();
      if (/^\W*PASS\b/i.test(first))
        return { verdict: 'pass' as const, reason: why || 'the judge passed it', data };
      if (/^\W*FAIL\b/i.test(first))
        return {
          verdict: 'block' as const,
          reason: `the judge failed it: ${why || 'no reason given'}`,
          data,
        };
      return {
        verdict: 'block' as const,
        reason: `the judge's answer says neither PASS nor FAIL: ${JSON.stringify(answer.slice(0, 80))}`,
        data,
      };
    },
  });
}
