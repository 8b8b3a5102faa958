import { InvalidArgumentError } from '../errors.ts';
import type { ModelUsageRecord } from '../journal/events.ts';
import type { LanguageModelV2, LanguageModelV3, LanguageModelV4 } from '@ai-sdk/provider';

/** A model's price in USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** A model a router can choose: its id (as journaled and reported) and its price. */
export interface ModelChoice {
  /** `provider:model`, e.g. `openai:gpt-4.1-mini`. */
  id: string;
  /** USD per million tokens; without it the model's calls are reported at cost 0. */
  price?: ModelPrice;
  /**
   * The AI SDK model to call, for callers that call it themselves (`agent({ routing })`); without
   * it, such callers resolve `id` as a model id. callSelectedModel's `call` receives the choice and ignores it.
   */
  model?: LanguageModelV4 | LanguageModelV3 | LanguageModelV2;
}

/** Usage as a model reports it (the AI SDK's LanguageModelUsage fits). */
export interface ModelUsage {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
}

export function usageRecord(usage: ModelUsage | undefined): ModelUsageRecord {
  return { inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0 };
}

export function checkModelChoice(model: ModelChoice, what: string): ModelChoice {
  if (typeof model !== 'object' || model === null || typeof model.id !== 'string' || model.id === '') {
    throw new InvalidArgumentError(`${what} must be { id: 'provider:model', price? }.`);
  }
  if (model.price) {
    for (const side of ['input', 'output'] as const) {
      const value = model.price[side];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new InvalidArgumentError(
          `The ${side} price of model '${model.id}' must be a finite number of USD per million tokens, at least 0.`,
        );
      }
    }
  }
  return model;
}
