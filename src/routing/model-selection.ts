import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError, PayloadTooLargeError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEventPayloads } from '../journal/events.ts';
import { estimateDifficulty } from './difficulty.ts';
import { callCost } from './prices.ts';
import { checkModelChoice, usageRecord, type ModelChoice, type ModelUsage } from './model-price.ts';
import { requestText } from './request-text.ts';
import { checkText, checkUnitInterval, rejected } from '../argument-checks.ts';
import { roundUsd } from '../rounding.ts';

/** A verifier's answer: accept or not, with a score and why. */
export interface Verdict {
  accepted: boolean;
  score?: number;
  reason: string;
  /** Set by a judge model: its id, usage and cost (reported with the call's cost). */
  judge?: { model: string; usage: { inputTokens: number; outputTokens: number }; costUsd: number };
}

/**
 * Checks a cheap model's output. Returns a boolean, a score in [0, 1] (accepted at or above the
 * cascade's threshold), or a full {@link Verdict}. See {@link judgeVerifier} for a judge model.
 */
export type Verifier<Request = unknown, Output = unknown> = (
  output: Output,
  context: { request: Request; model: ModelChoice; threshold: number },
) => boolean | number | Verdict | Promise<boolean | number | Verdict>;

export type ModelStrategy<Request = unknown, Output = unknown> =
  /** Always this model. */
  | { strategy: 'fixed'; model: ModelChoice }
  /**
   * By a difficulty estimate in [0, 1] (default {@link estimateDifficulty} of the request's text):
   * the first tier whose `upTo` is at or above it. The last tier must reach 1.
   */
  | {
      strategy: 'difficulty';
      tiers: readonly { upTo: number; model: ModelChoice }[];
      estimate?: (request: Request) => number;
    }
  /**
   * Cheapest first: each model's answer is kept when the verifier accepts it, otherwise the next
   * model is tried. The last model's answer is kept without asking the verifier.
   */
  | {
      strategy: 'cascade';
      models: readonly ModelChoice[];
      verify: Verifier<Request, Output>;
      /** A numeric verdict is accepted at or above this, in [0, 1]. Default 0.5. */
      threshold?: number;
    };

export interface SelectedModelCallOptions<Request, Output> {
  /** The call's name in the journal (`model:<name>`). */
  name: string;
  strategy: ModelStrategy<Request, Output>;
  request: Request;
  /** Calls one model. Must not make ctx calls: the router journals each call's output itself. */
  call: (
    model: ModelChoice,
    request: Request,
    signal: AbortSignal,
  ) => Promise<{ output: Output; usage?: ModelUsage }>;
  /** The agent the call is made for, for cost reports. Default: the context's actor. */
  agent?: string;
}

export interface SelectedModelCallResult<Output> {
  output: Output;
  /** The id of the model whose output was kept. */
  model: string;
  strategy: 'fixed' | 'difficulty' | 'cascade';
  reason: string;
  attempts: number;
  /** What the call cost in USD, every attempt and judge included. */
  costUsd: number;
  difficulty?: number;
  replayed: boolean;
}

/**
 * Chooses the model for one call — fixed, by difficulty, or by a cascade that escalates when a
 * verifier rejects — calls it, and journals every attempt (`model.attempted`: model, output, usage,
 * cost, the verifier's verdict) and the decision (`model.routed`: chosen model, strategy, reason).
 *
 * Failure semantics: each attempt is journaled as soon as it returns, so after a crash a cascade
 * resumes after its last journaled attempt (a model call in flight at the crash is made again);
 * a finished call returns its journaled output on replay without calling any model. A failing model
 * call (or verifier) throws out of callSelectedModel; nothing of that attempt is journaled.
 *
 * @example
 * const answer = await callSelectedModel(ctx, {
 *   name: 'answer',
 *   strategy: { strategy: 'cascade', models: [mini, full], verify: judgeVerifier({ model: judge, threshold: 0.7 }) },
 *   request: { prompt: question },
 *   call: async (model, request) => {
 *     const result = await generateText({ model: models[model.id], prompt: request.prompt });
 *     return { output: result.text, usage: result.usage };
 *   },
 * });
 */
export function callSelectedModel<Request, Output>(
  ctx: WorkflowContext,
  options: SelectedModelCallOptions<Request, Output>,
): Promise<SelectedModelCallResult<Output>> {
  try {
    checkText(options.name, 'The routed call name');
    checkStrategy(options.strategy);
    if (typeof options.call !== 'function')
      throw new InvalidArgumentError('callSelectedModel needs a call function.');
  } catch (error) {
    return rejected(error);
  }
  const agent = options.agent ?? ctx.identity.actor;
  return ctx.operations.run(`model:${options.name}`, async (op) => {
    const attempts = op.recorded
      .filter((event) => event.type === 'model.attempted')
      .map((event) => event.payload);
    const routed = op.recorded.find((event) => event.type === 'model.routed')?.payload;
    if (routed) return replayedRoute<Output>(attempts, routed);
    const attempt = attempter({ ctx, op, options, attempts, agent });
    const choice = await choose(options.strategy, options.request, attempt);
    return recordRoute({ op, options, attempts, agent }, choice);
  });
}

type Attempted = JournalEventPayloads['model.attempted'];
type VerifyOutput<Output> = (output: Output) => Promise<Verdict | undefined>;
/** The `index`th attempt at the call, on `model`: recorded, or made, verified and journaled. */
type Attempt<Output> = (
  model: ModelChoice,
  index: number,
  verify: VerifyOutput<Output>,
) => Promise<Attempted>;

/** The answer a strategy kept, and why. */
interface RouteChoice {
  kept: Attempted | undefined;
  reason: string;
  difficulty?: number;
}

/** What one routed call's op works with. */
interface RoutedOp<Request, Output> {
  op: OperationHandle;
  options: SelectedModelCallOptions<Request, Output>;
  /** The attempts so far, recorded and made, by index. */
  attempts: Attempted[];
  agent: string;
}

const noVerdict = async (): Promise<undefined> => undefined;

/** A routed call that was decided before: its recorded answer, as it was routed. */
function replayedRoute<Output>(
  attempts: readonly Attempted[],
  routed: JournalEventPayloads['model.routed'],
): SelectedModelCallResult<Output> {
  const kept = attempts[attempts.length - 1]!;
  return {
    output: kept.output as Output,
    model: routed.chosen,
    strategy: routed.strategy,
    reason: routed.reason,
    attempts: routed.attempts,
    costUsd: routed.costUsd,
    ...(routed.difficulty === undefined ? {} : { difficulty: routed.difficulty }),
    replayed: true,
  };
}

function attempter<Request, Output>({
  ctx,
  op,
  options,
  attempts,
  agent,
}: RoutedOp<Request, Output> & { ctx: WorkflowContext }): Attempt<Output> {
  const { name, request } = options;
  return async (model, index, verify) => {
    const recorded = attempts[index];
    if (recorded) return recorded;
    const { output, usage } = await op.active(() => options.call(model, request, op.signal));
    const verdict = await op.active(() => verify(output));
    const usageRecorded = usageRecord(usage);
    const payload: Attempted = {
      op: op.op,
      name,
      model: model.id,
      attempt: index + 1,
      output: output,
      usage: usageRecorded,
      costUsd: callCost(model.price, usageRecorded).usd,
      agent,
      ...(verdict ? { verdict } : {}),
    };
    checkSize(payload, `The output of model '${model.id}' for '${name}'`, ctx.operations.maxPayloadBytes);
    await op.append([{ type: 'model.attempted', payload }]);
    attempts[index] = payload;
    return payload;
  };
}

/** The answer the strategy keeps. */
async function choose<Request, Output>(
  strategy: ModelStrategy<Request, Output>,
  request: Request,
  attempt: Attempt<Output>,
): Promise<RouteChoice> {
  switch (strategy.strategy) {
    case 'fixed':
      return {
        kept: await attempt(strategy.model, 0, noVerdict),
        reason: `fixed model ${strategy.model.id}`,
      };
    case 'difficulty': {
      const difficulty = checkUnitInterval(
        strategy.estimate ? strategy.estimate(request) : estimateDifficulty(requestText(request)),
        'The difficulty estimate',
      );
      const tier = strategy.tiers.find((candidate) => difficulty <= candidate.upTo)!;
      const kept = await attempt(tier.model, 0, noVerdict);
      return { kept, reason: `difficulty ${difficulty} ≤ ${tier.upTo}: ${tier.model.id}`, difficulty };
    }
    case 'cascade':
      return cascade(strategy, request, attempt);
  }
}

/** Cheapest first: the first answer the verifier accepts, or the last model's. */
async function cascade<Request, Output>(
  strategy: Extract<ModelStrategy<Request, Output>, { strategy: 'cascade' }>,
  request: Request,
  attempt: Attempt<Output>,
): Promise<RouteChoice> {
  const threshold = strategy.threshold ?? 0.5;
  const rejections: string[] = [];
  let kept: Attempted | undefined;
  for (const [index, model] of strategy.models.entries()) {
    const last = index === strategy.models.length - 1;
    const verify = last
      ? noVerdict
      : async (output: Output) =>
          toVerdict(await strategy.verify(output, { request, model, threshold }), threshold);
    kept = await attempt(model, index, verify);
    if (last) {
      const reason = rejections.length
        ? `${rejections.join('; ')}; escalated to the last model, ${model.id}, kept without verification`
        : `the only model, ${model.id}`;
      return { kept, reason };
    }
    if (kept.verdict?.accepted) {
      const reason = [...rejections, `${model.id} accepted by the verifier (${kept.verdict.reason})`].join(
        '; ',
      );
      return { kept, reason };
    }
    rejections.push(`${model.id} rejected by the verifier (${kept.verdict?.reason ?? 'no reason'})`);
  }
  return { kept, reason: '' };
}

/** Journals the routing decision (model.routed) and returns the kept answer. */
async function recordRoute<Request, Output>(
  { op, options, attempts, agent }: RoutedOp<Request, Output>,
  { kept, reason, difficulty }: RouteChoice,
): Promise<SelectedModelCallResult<Output>> {
  const { name, strategy } = options;
  if (!kept) throw new InvalidArgumentError(`Routed call '${name}' kept no answer.`);
  const costUsd = roundUsd(
    attempts.reduce((sum, item) => sum + item.costUsd + (item.verdict?.judge?.costUsd ?? 0), 0),
  );
  await op.append([
    {
      type: 'model.routed',
      payload: {
        op: op.op,
        name,
        strategy: strategy.strategy,
        chosen: kept.model,
        reason,
        attempts: attempts.length,
        costUsd,
        agent,
        ...(difficulty === undefined ? {} : { difficulty }),
      },
    },
  ]);
  return {
    output: kept.output as Output,
    model: kept.model,
    strategy: strategy.strategy,
    reason,
    attempts: attempts.length,
    costUsd,
    ...(difficulty === undefined ? {} : { difficulty }),
    replayed: false,
  };
}

/** Picks the model of a fixed or difficulty strategy without calling it (for a caller that journals its own call). */
export function selectModel<Request>(
  strategy: Extract<ModelStrategy<Request>, { strategy: 'fixed' | 'difficulty' }>,
  request: Request,
): { model: ModelChoice; reason: string; difficulty?: number } {
  checkStrategy(strategy);
  if (strategy.strategy === 'fixed')
    return { model: strategy.model, reason: `fixed model ${strategy.model.id}` };
  const difficulty = checkUnitInterval(
    strategy.estimate ? strategy.estimate(request) : estimateDifficulty(requestText(request)),
    'The difficulty estimate',
  );
  const tier = strategy.tiers.find((candidate) => difficulty <= candidate.upTo)!;
  return {
    model: tier.model,
    reason: `difficulty ${difficulty} ≤ ${tier.upTo}: ${tier.model.id}`,
    difficulty,
  };
}

/** Checks a strategy's shape, thresholds and models; throws InvalidArgumentError naming what is wrong. */
export function checkStrategy(strategy: ModelStrategy<any, any>): void {
  if (typeof strategy !== 'object' || strategy === null)
    throw new InvalidArgumentError('A model strategy must be an object.');
  switch (strategy.strategy) {
    case 'fixed':
      checkModelChoice(strategy.model, 'The fixed model');
      return;
    case 'difficulty': {
      if (!Array.isArray(strategy.tiers) || strategy.tiers.length === 0) {
        throw new InvalidArgumentError(
          'A difficulty strategy needs tiers: [{ upTo, model }, …], ending with upTo 1.',
        );
      }
      let previous = -Infinity;
      for (const [index, tier] of strategy.tiers.entries()) {
        checkUnitInterval(tier.upTo, `Tier ${index + 1}'s upTo`);
        if (tier.upTo <= previous)
          throw new InvalidArgumentError(
            `Difficulty tiers must rise: tier ${index + 1}'s upTo ${tier.upTo} is not above ${previous}.`,
          );
        previous = tier.upTo;
        checkModelChoice(tier.model, `Tier ${index + 1}'s model`);
      }
      if (previous !== 1)
        throw new InvalidArgumentError(
          `The last difficulty tier must reach upTo 1 (it reaches ${previous}), so every estimate has a model.`,
        );
      return;
    }
    case 'cascade':
      if (!Array.isArray(strategy.models) || strategy.models.length === 0)
        throw new InvalidArgumentError('A cascade needs models, cheapest first.');
      strategy.models.forEach((model, index) => checkModelChoice(model, `Cascade model ${index + 1}`));
      if (typeof strategy.verify !== 'function')
        throw new InvalidArgumentError('A cascade needs a verify function (or judgeVerifier(…)).');
      checkUnitInterval(strategy.threshold ?? 0.5, 'The cascade threshold');
      return;
    default:
      throw new InvalidArgumentError(
        `Unknown model strategy '${String((strategy as { strategy?: unknown }).strategy)}': use fixed, difficulty or cascade.`,
      );
  }
}

/** A verifier's answer (a boolean, a score, or a verdict) as a verdict at `threshold`. */
export function toVerdict(answer: boolean | number | Verdict, threshold: number): Verdict {
  if (typeof answer === 'boolean')
    return { accepted: answer, reason: answer ? 'check passed' : 'check failed' };
  if (typeof answer === 'number') {
    const score = checkUnitInterval(answer, 'A verifier score');
    return {
      accepted: score >= threshold,
      score,
      reason: `score ${score} ${score >= threshold ? '≥' : '<'} threshold ${threshold}`,
    };
  }
  if (typeof answer !== 'object' || answer === null || typeof answer.accepted !== 'boolean') {
    throw new InvalidArgumentError(
      'A verifier must return a boolean, a score in [0, 1] or { accepted, score?, reason }.',
    );
  }
  return { ...answer, reason: answer.reason ?? (answer.accepted ? 'accepted' : 'rejected') };
}

function checkSize(payload: unknown, what: string, limit: number): void {
  const bytes = Buffer.byteLength(canonicalJson(payload, what));
  if (bytes > limit) throw new PayloadTooLargeError({ what, bytes, limit });
}

/** @deprecated Renamed {@link callSelectedModel} ("route" now only means sending a request to one of several handlers). */
export const routeModel = callSelectedModel;
/** @deprecated Renamed {@link SelectedModelCallOptions}. */
export type RoutedCallOptions<Request, Output> = SelectedModelCallOptions<Request, Output>;
/** @deprecated Renamed {@link SelectedModelCallResult}. */
export type RoutedCallResult<Output> = SelectedModelCallResult<Output>;
