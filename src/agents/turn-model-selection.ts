import { roundUsd } from '../rounding.ts';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { BatonError, InvalidArgumentError } from '../errors.ts';
import type { JournalEventPayloads } from '../journal/events.ts';
import type { ModelChoice } from '../routing/model-price.ts';
import {
  checkStrategy,
  selectModel,
  toVerdict,
  type ModelStrategy,
  type Verdict,
} from '../routing/model-selection.ts';
import type { JournalMessage } from './messages.ts';
import type { ModelSpec } from './models.ts';
import type { CallCost, TokenUsage } from '../routing/prices.ts';

/** What a routed agent turn is about, as strategies, difficulty estimates and verifiers see it. */
export interface AgentTurnRequest {
  agent: string;
  /** The request's messages (AI SDK prompt messages): `requestText` reads their text. */
  messages: readonly JournalMessage[];
  /** The tools offered, as the model sees them. */
  tools: readonly string[];
}

/** A model's reply to an agent turn, as a cascade's verifier sees it. */
export interface AgentTurnReply {
  text: string;
  toolCalls: { name: string; input: unknown }[];
  finishReason: string;
}

/**
 * How an agent chooses the model of each turn (`agent({ routing })`): a {@link ModelStrategy} over
 * {@link AgentTurnRequest}s and {@link AgentTurnReply}s. Each choice is `{ id, price?, model? }`:
 * `model` is the AI SDK model to call; without it `id` is resolved as a model id
 * (`openai:gpt-4.1-mini`). `price` (USD per 1M tokens) overrides the price table.
 */
export type AgentModelStrategy = ModelStrategy<AgentTurnRequest, AgentTurnReply>;

/** One model a routed turn may call. */
export interface TurnStage {
  choice: ModelChoice;
  model: LanguageModelV4;
}

/** What a routed turn will try, in order, and why. */
export interface TurnPlan {
  strategy: AgentModelStrategy['strategy'];
  stages: TurnStage[];
  /** The ids of the strategy's models, in order. */
  candidates: string[];
  /** Why the (only) stage was chosen, for fixed and difficulty strategies. */
  reason?: string;
  difficulty?: number;
}

/** Checks an agent's strategy at the door and resolves each of its models (ids, keys). */
export function checkAgentStrategy(
  strategy: AgentModelStrategy,
  agent: string,
  resolve: (spec: ModelSpec) => unknown,
): AgentModelStrategy {
  try {
    checkStrategy(strategy);
  } catch (error) {
    throw new InvalidArgumentError(
      `Agent '${agent}' has routing that is not valid: ${(error as Error).message}`,
    );
  }
  for (const choice of strategyChoices(strategy)) resolve(choiceSpec(choice));
  return strategy;
}

/** The strategy's models in order (tiers for difficulty, models for a cascade). */
export function strategyChoices(strategy: AgentModelStrategy): ModelChoice[] {
  switch (strategy.strategy) {
    case 'fixed':
      return [strategy.model];
    case 'difficulty':
      return strategy.tiers.map((tier) => tier.model);
    case 'cascade':
      return [...strategy.models];
  }
}

/** The model a choice stands for: its `model`, else its id. */
export function choiceSpec(choice: ModelChoice): ModelSpec {
  return choice.model ?? choice.id;
}

/** Plans a routed turn: the model a fixed or difficulty strategy picks, or a cascade's models. */
export function planTurn(
  strategy: AgentModelStrategy,
  request: AgentTurnRequest,
  resolve: (choice: ModelChoice) => LanguageModelV4,
): TurnPlan {
  const candidates = strategyChoices(strategy);
  const ids = candidates.map((choice) => choice.id);
  if (strategy.strategy === 'cascade') {
    return {
      strategy: 'cascade',
      stages: candidates.map((choice) => ({ choice, model: resolve(choice) })),
      candidates: ids,
    };
  }
  const picked = selectModel(strategy, request);
  return {
    strategy: strategy.strategy,
    stages: [{ choice: picked.model, model: resolve(picked.model) }],
    candidates: ids,
    reason: picked.reason,
    ...(picked.difficulty === undefined ? {} : { difficulty: picked.difficulty }),
  };
}

/**
 * A cascade verifier's verdict on a reply. A verifier that throws rejects the reply (the cascade
 * escalates), with the error as the reason.
 */
export async function verifyReply(
  strategy: Extract<AgentModelStrategy, { strategy: 'cascade' }>,
  reply: AgentTurnReply,
  request: AgentTurnRequest,
  choice: ModelChoice,
): Promise<Verdict> {
  const threshold = strategy.threshold ?? 0.5;
  try {
    return toVerdict(await strategy.verify(reply, { request, model: choice, threshold }), threshold);
  } catch (error) {
    const message = BatonError.isInstance(error) || error instanceof Error ? error.message : String(error);
    return { accepted: false, reason: `the verifier failed: ${message}` };
  }
}

/** Why a cascade kept the answer it kept (the rejections before it, then the kept one). */
export function cascadeReason(
  rejected: readonly JournalEventPayloads['model.attempted'][],
  kept: string,
  verdict: Verdict | undefined,
): string {
  const rejections = rejected.map(
    (attempt) => `${attempt.model} rejected by the verifier (${attempt.verdict?.reason ?? 'no reason'})`,
  );
  if (verdict) return [...rejections, `${kept} accepted by the verifier (${verdict.reason})`].join('; ');
  return rejections.length > 0
    ? `${rejections.join('; ')}; escalated to the last model, ${kept}, kept without verification`
    : `the only model, ${kept}`;
}

/** A reply as a cascade's verifier sees it (and as a rejected answer is journaled). */
export function turnReply(
  response: Pick<AgentTurnReply, 'text' | 'finishReason'> & {
    toolCalls: readonly { name: string; input: unknown }[];
  },
): AgentTurnReply {
  return {
    text: response.text,
    toolCalls: response.toolCalls.map((call) => ({ name: call.name, input: call.input })),
    finishReason: response.finishReason,
  };
}

/** A verdict as `model.routed` lists it. */
export function verdictSummary(
  model: string,
  verdict: Verdict | JournalEventPayloads['model.attempted']['verdict'],
): { model: string; accepted: boolean; score?: number; reason: string } {
  return {
    model,
    accepted: verdict?.accepted ?? false,
    ...(verdict?.score === undefined ? {} : { score: verdict.score }),
    reason: verdict?.reason ?? 'no verdict',
  };
}

/**
 * What a routed turn used and cost in all: the kept answer's usage plus the rejected answers',
 * and every call's cost with the judges'. The same from the live call and from the journal.
 */
export function selectedTurn(
  rejected: readonly JournalEventPayloads['model.attempted'][],
  usage: TokenUsage,
  cost: CallCost,
  accepted: Pick<Verdict, 'judge'> | undefined,
): { usage: TokenUsage; cost: CallCost } {
  const usd =
    rejected.reduce(
      (sum, attempted) => sum + attempted.costUsd + (attempted.verdict?.judge?.costUsd ?? 0),
      0,
    ) +
    cost.usd +
    (accepted?.judge?.costUsd ?? 0);
  return {
    usage: {
      ...usage,
      inputTokens: rejected.reduce((sum, attempted) => sum + attempted.usage.inputTokens, usage.inputTokens),
      outputTokens: rejected.reduce(
        (sum, attempted) => sum + attempted.usage.outputTokens,
        usage.outputTokens,
      ),
    },
    cost: { usd: roundUsd(usd), priced: cost.priced },
  };
}
