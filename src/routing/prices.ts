import { roundUsd } from '../rounding.ts';

/** US dollars per 1M tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Cached input tokens, when the provider bills them differently. Default: `input`. */
  cachedInput?: number;
}

/**
 * Prices by model id. A key matches the model id exactly, `provider:modelId`, or as the longest
 * prefix (so `claude-sonnet-4` prices `claude-sonnet-4-20250514`).
 */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * List prices (USD per 1M tokens) of common models as published by their providers. Override or
 * extend with `Baton.open({ agents: { prices } })`; a model not in the table costs 0 and its
 * calls are journaled with `priced: false`.
 */
export const DEFAULT_PRICES: PriceTable = Object.freeze({
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-3-5-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08 },
});

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
}

export interface CallCost {
  usd: number;
  /** False when the model is not in the price table (the cost is then 0). */
  priced: boolean;
}

/** Finds a model's price: `provider:modelId`, then the model id, then the longest matching prefix. */
export function findPrice(prices: PriceTable, provider: string, modelId: string): ModelPrice | undefined {
  const providerName = provider.split('.')[0];
  const exact = prices[`${providerName}:${modelId}`] ?? prices[modelId];
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(prices)) {
    if (modelId.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : prices[best];
}

/** The cost of one call, rounded to a millionth of a cent so journals stay readable. */
export function callCost(price: ModelPrice | undefined, usage: TokenUsage): CallCost {
  if (!price) return { usd: 0, priced: false };
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const usd =
    ((usage.inputTokens - cached) * price.input +
      cached * (price.cachedInput ?? price.input) +
      usage.outputTokens * price.output) /
    1_000_000;
  return { usd: roundUsd(usd), priced: true };
}
