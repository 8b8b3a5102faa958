import type { LanguageModel } from 'ai';
import { callCost, type ModelPrice } from './prices.ts';
import { usageRecord } from './model-price.ts';
import type { Verdict, Verifier } from './model-selection.ts';
import { checkUnitInterval } from '../argument-checks.ts';
import { requestText } from './request-text.ts';

export interface JudgeVerifierOptions {
  /** The judge: any AI SDK language model. */
  model: LanguageModel;
  /** Its id in the journal and cost reports. Default `provider:modelId`. */
  id?: string;
  price?: ModelPrice;
  /** Answers scored at or above this (in [0, 1]) are accepted. Default: the cascade's threshold. */
  threshold?: number;
  /** What a good answer does, in the judge's instructions. Default: correct, complete and on the task. */
  criteria?: string;
}

/**
 * A verifier that asks a judge model to score an answer from 0 to 1 and accepts it at or above the
 * threshold. The judge's usage and cost are journaled with the verdict. A reply with no number in
 * it scores 0 (rejected, so the cascade escalates).
 *
 * @example
 * const verify = judgeVerifier({ model: openai('gpt-4.1-mini'), threshold: 0.7, price: { input: 0.4, output: 1.6 } });
 */
export function judgeVerifier<Request = unknown>(options: JudgeVerifierOptions): Verifier<Request, unknown> {
  const fixed =
    options.threshold === undefined ? undefined : checkUnitInterval(options.threshold, 'The judge threshold');
  const id =
    options.id ??
    (typeof options.model === 'string'
      ? options.model
      : `${options.model.provider}:${options.model.modelId}`);
  const criteria = options.criteria ?? 'The answer is correct, complete, and addresses the task directly.';
  return async (output, { request, threshold }) => {
    const bar = fixed ?? threshold;
    const { generateText } = await import('ai');
    const result = await generateText({
      model: options.model,
      system:
        'You grade answers. Reply with only a number between 0 and 1: 1 when the answer fully meets the criteria, ' +
        '0 when it does not meet them at all.',
      prompt: `Criteria: ${criteria}\n\nTask:\n${requestText(request)}\n\nAnswer:\n${typeof output === 'string' ? output : JSON.stringify(output)}\n\nScore:`,
    });
    const match = /(?:^|[^\d.])((?:0(?:\.\d+)?)|(?:1(?:\.0+)?)|(?:\.\d+))(?![\d.])/.exec(` ${result.text}`);
    const score = match ? Number(match[1]) : 0;
    const usage = usageRecord(result.usage);
    const verdict: Verdict = {
      accepted: score >= bar,
      score,
      reason: match
        ? `judge ${id} scored ${score} (threshold ${bar})`
        : `judge ${id} gave no score ('${result.text.slice(0, 40)}')`,
      judge: { model: id, usage, costUsd: callCost(options.price, usage).usd },
    };
    return verdict;
  };
}
