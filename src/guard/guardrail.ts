import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { ModelPrice } from '../routing/prices.ts';
import type { ModelSpec } from '../agents/models.ts';
import type { ToolEffect } from '../agents/tool.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { GuardStage } from '../journal/events.ts';

export type { GuardStage };

export const GUARD_STAGES: readonly GuardStage[] = [
  'run.input',
  'agent.input',
  'agent.output',
  'tool.before',
  'tool.after',
];

/**
 * What a guardrail decides about a value: let it through, stop it, or let through a changed value
 * (redaction). Always with a reason for the journal when it is not a plain pass.
 */
export type GuardrailVerdict =
  | { verdict: 'pass'; reason?: string; data?: Record<string, unknown> }
  | { verdict: 'block'; reason: string; data?: Record<string, unknown> }
  | { verdict: 'rewrite'; value: unknown; reason: string; data?: Record<string, unknown> };

/** What a guardrail knows about the value it checks. */
export interface GuardrailContext {
  readonly stage: GuardStage;
  readonly runId: string;
  readonly workflow: string;
  readonly tenant: string;
  /** Who started the run. */
  readonly principal: string;
  /** The agent whose input, output or tool call this is. */
  readonly agent?: string;
  /** The tool whose arguments or result this is. */
  readonly tool?: { name: string; effect: ToolEffect };
  /** Resolves a model as agents do (a model id, or an AI SDK model), with its price, for judges. */
  readonly models: GuardModels;
}

/** How guardrails reach models: the agents layer's providers and price table. */
export interface GuardModels {
  resolve(spec: ModelSpec, who: string): LanguageModelV4;
  price(provider: string, modelId: string): ModelPrice | undefined;
}

/**
 * A guardrail: a named check of a value at one or more stages. Built-ins: `schema`, `maxLength`,
 * `redact`, `denyList`, `judge`; combine them with `all`, `any` and `sequence`. A plain function
 * is a guardrail too.
 */
export interface Guardrail {
  readonly kind: 'guardrail';
  readonly name: string;
  /** The stages it checks at; default every stage it is given. */
  readonly stages: readonly GuardStage[] | undefined;
  /**
   * A tripwire: its block stops the agent (and every agent above it) with TripwireTriggeredError,
   * failing the run unless the workflow catches it, instead of refusing one value (the model is
   * told why and goes on). At `agent.input`, `agent.output` and `tool.before`.
   */
  readonly tripwire?: boolean;
  check(
    value: unknown,
    context: GuardrailContext,
  ): GuardrailVerdict | undefined | Promise<GuardrailVerdict | undefined>;
}

/**
 * A guardrail as a plain function: return a verdict, `true`/`undefined` to pass, or `false` to
 * block. Throwing blocks (fail closed), with the error journaled.
 */
export type GuardrailFunction = (
  value: any,
  context: GuardrailContext,
) => GuardrailVerdict | boolean | undefined | void | Promise<GuardrailVerdict | boolean | undefined | void>;

export type GuardrailLike = Guardrail | GuardrailFunction;

/**
 * Defines a guardrail from a function.
 *
 * @example
 * const noRefundsOverLimit = guardrail('refund-limit', (args: { cents: number }) =>
 *   args.cents <= 50_000 ? pass() : block('refunds over $500 need a person'), { stages: ['tool.before'] });
 */
export function guardrail(
  name: string,
  check: GuardrailFunction,
  options: { stages?: readonly GuardStage[]; tripwire?: boolean } = {},
): Guardrail {
  if (typeof name !== 'string' || name.trim() === '')
    throw new InvalidArgumentError('A guardrail needs a name.');
  if (typeof check !== 'function')
    throw new InvalidArgumentError(`Guardrail '${name}' needs a check function.`);
  const stages = checkStages(name, options.stages);
  return Object.freeze({
    kind: 'guardrail' as const,
    name,
    stages,
    ...(options.tripwire === true ? { tripwire: true } : {}),
    check: async (value: unknown, context: GuardrailContext) => normalize(name, await check(value, context)),
  });
}

/**
 * The same guardrail as a tripwire: a block stops the agent and fails the run (TripwireTriggeredError)
 * instead of refusing one value. `guardrail(name, fn, { tripwire: true })` does the same for a function.
 *
 * @example guardrails: { input: [tripwire(denyList(['ignore previous instructions']))] }
 */
export function tripwire(like: GuardrailLike): Guardrail {
  const guard = toGuardrail(like);
  return Object.freeze({ ...guard, tripwire: true });
}

/** A guardrail from either form; a function is named after itself (or `custom`). */
export function toGuardrail(like: GuardrailLike): Guardrail {
  if (typeof like === 'function') return guardrail(like.name || 'custom', like);
  if (
    typeof like === 'object' &&
    like !== null &&
    typeof (like as { check?: unknown }).check === 'function'
  ) {
    const named = like as Partial<Guardrail> & { check: Guardrail['check']; name?: string };
    if (named.kind === 'guardrail') return like;
    return guardrail(named.name ?? 'custom', (value, context) => named.check(value, context));
  }
  throw new InvalidArgumentError(`A guardrail must be a function or a guardrail object, got ${typeof like}.`);
}

export function pass(reason?: string, data?: Record<string, unknown>): GuardrailVerdict {
  return {
    verdict: 'pass',
    ...(reason === undefined ? {} : { reason }),
    ...(data === undefined ? {} : { data }),
  };
}

export function block(reason: string, data?: Record<string, unknown>): GuardrailVerdict {
  return { verdict: 'block', reason, ...(data === undefined ? {} : { data }) };
}

export function rewrite(value: unknown, reason: string, data?: Record<string, unknown>): GuardrailVerdict {
  return { verdict: 'rewrite', value, reason, ...(data === undefined ? {} : { data }) };
}

function normalize(name: string, answer: unknown): GuardrailVerdict {
  if (answer === undefined || answer === true) return { verdict: 'pass' };
  if (answer === false) return { verdict: 'block', reason: `blocked by ${name}` };
  const verdict = answer as Partial<GuardrailVerdict>;
  if (typeof answer === 'object' && answer !== null) {
    if (verdict.verdict === 'pass') return answer as GuardrailVerdict;
    if (verdict.verdict === 'block')
      return { ...(answer as GuardrailVerdict), reason: String(verdict.reason ?? `blocked by ${name}`) };
    if (verdict.verdict === 'rewrite' && 'value' in verdict) {
      return { ...(answer as GuardrailVerdict), reason: String(verdict.reason ?? `rewritten by ${name}`) };
    }
  }
  throw new InvalidArgumentError(
    `Guardrail '${name}' returned ${JSON.stringify(answer) ?? typeof answer}; return pass(), block(reason), rewrite(value, reason), true or false.`,
  );
}

export function checkStages(
  name: string,
  stages: readonly GuardStage[] | undefined,
): readonly GuardStage[] | undefined {
  if (stages === undefined) return undefined;
  for (const stage of stages) {
    if (!GUARD_STAGES.includes(stage)) {
      throw new InvalidArgumentError(
        `Guardrail '${name}' names the stage '${String(stage)}'; stages are ${GUARD_STAGES.join(', ')}.`,
      );
    }
  }
  return Object.freeze([...stages]);
}

/** Applies `fn` to every string inside a JSON value (object keys left alone). */
export function mapStrings(value: unknown, fn: (text: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, fn)]));
  }
  return value;
}

/** The text a value reads as: itself when a string, else its JSON. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}
