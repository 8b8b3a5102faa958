import type { SharedV4ProviderOptions } from '@ai-sdk/provider';
import { checkToolUseBehavior, type ToolUseBehavior } from './tool-use-behavior.ts';
import type { z } from 'zod';
import { lazyValue, zod } from '../lazy-module.ts';
import { toMilliseconds, type Duration } from '../engine/duration.ts';
import type { RetryPolicy } from '../engine/retry.ts';
import { checkActionPattern } from '../access/action-pattern.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { RecallOptions } from '../routing/memory.ts';
import { checkPositiveInteger, checkSimilarity, checkUnitInterval } from '../argument-checks.ts';
import { checkHistoryBudget, type HistoryBudget } from './history-budget.ts';
import type { ModelParameters } from './model-types.ts';
import { checkModelSpec, type ModelSpec } from './models.ts';
import { checkAgentCache, type AgentCacheOptions } from './turn-cache.ts';
import {
  checkAgentStrategy,
  choiceSpec,
  strategyChoices,
  type AgentModelStrategy,
} from './turn-model-selection.ts';
import { isToolDefinition, type ToolDefinition } from './tool.ts';

export interface AgentOptions<Output = string> {
  /** Letters, digits, `_`, `-` and `.`; 1–64 characters. The agent acts as `agent:<name>`. */
  name: string;
  /** What the agent does: offered to other agents when it is a tool or a handoff target, and used for routing. */
  description: string;
  /** The system prompt. */
  instructions: string;
  /**
   * An AI SDK LanguageModel, or a model id: `openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`,
   * `openai-compatible:<baseURL>#<model>`. An id's API key must be in the environment when the
   * model is first called (MissingApiKeyError names the variable, and the run fails); defining the
   * agent, and reading, replaying or explaining its runs, need none. Required unless `routing` is given
   * (it is then the strategy's first model).
   */
  model?: ModelSpec;
  /** Tools, and agents the model may call as tools (they run as sub-agents and answer the call). */
  tools?: readonly (ToolDefinition | AgentDefinition<any>)[];
  /** Agents this one may hand the conversation to. A function defers the list (for agents that hand off to each other). */
  handoffs?: readonly AgentDefinition<any>[] | (() => readonly AgentDefinition<any>[]);
  /** Model calls allowed before MaxTurnsExceededError. Default 10. */
  maxTurns?: number;
  /** A schema for the final answer: the model is asked for JSON, which is validated and returned parsed. */
  output?: z.ZodType<Output>;
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stopSequences?: string[];
  /** Passed to the provider as is (`{ openai: { reasoningEffort: 'low' } }`). */
  providerOptions?: SharedV4ProviderOptions;
  /** How failed model calls are retried. Default: 4 attempts, backoff from 1 s, honouring Retry-After. */
  retry?: RetryPolicy;
  /** Each model call attempt is abandoned and retried after this long. Default 5 minutes. */
  timeout?: Duration;
  /** Invalid tool calls (unknown tool, bad arguments) or invalid final answers sent back to the model before giving up. Default 3. */
  maxInvalidToolCalls?: number;
  /**
   * Whether a tool's result ends the loop: `'run_llm_again'` (default: the model sees the results),
   * `'stop_on_first_tool'`, `{ stopAtToolNames: ['submit'] }`, or a deterministic function of the
   * response's tool results. The ending tool result is the agent's output (see ToolUseBehavior).
   */
  toolUseBehavior?: ToolUseBehavior;
  /**
   * Checks on what the agent is given (`input`), what it answers (`output`) and its tool calls'
   * arguments and results (`tools`): guardrails from src/guard (`redact()`, `maxLength()`, a judge…)
   * or plain functions. Each verdict is journaled; a guardrail that throws blocks.
   */
  guardrails?: AgentGuardrails;
  /**
   * The grant actions the agent needs (`['tool:search.*', 'secret:stripe.key']`). It acts under its
   * caller's grant narrowed to them; a need the caller does not hold refuses the agent
   * (DelegationWidensError, journaled). Default: what its tools, agents and handoffs need
   * (`tool:<name>`, `secret:<name>` of each tool's `secrets`, `handoff:<agent>` and that agent's
   * needs), of which it gets what the caller holds.
   */
  needs?: readonly string[];
  /**
   * The resource pool (baton.config.ts `pools`) every model call of this agent waits in, reserving
   * its estimated tokens (prompt characters / 4 + maxOutputTokens) and correcting them from the
   * reported usage. A pool that is not configured fails the agent at its first use.
   */
  pool?: string;
  /**
   * Answer turns from the Baton's semantic cache (`Baton.open({ agents: { cache } })`) when it
   * holds the same request, or one similar enough, from an earlier run of the same tenant with the
   * same model, system prompt and tools. A hit is journaled as `llm.called` with
   * `cache: { runId, seq, similarity }` (usage and cost 0) and replays from the journal. Only
   * replies that call no tool with side effects (a `write` or `irreversible` tool, an agent, a
   * handoff, a tool that redacts) are stored. `true` takes the cache's TTL and threshold.
   *
   * @example agent({ …, cache: { ttl: '6h', threshold: 0.97 } })
   */
  cache?: boolean | AgentCacheOptions;
  /**
   * Choose the model of each turn: `fixed`, by `difficulty` (the request's estimate picks a tier),
   * or a `cascade` (cheapest first; the next model is tried when the verifier rejects an answer,
   * the last is kept unverified). Models are `{ id, price?, model? }`. Each turn is one journaled
   * decision: rejected answers as `model.attempted`, the kept reply as `llm.called`, and
   * `model.routed` (candidates, verdicts, reason, cost) in the same commit; replay calls no model.
   * A fork that overrides the model turns routing off. A verifier that throws rejects the answer.
   *
   * @example
   * routing: { strategy: 'cascade', models: [{ id: 'mini', model: mini }, { id: 'large', model: large }],
   *            verify: judgeVerifier({ model: judge, threshold: 0.7 }) }
   */
  routing?: AgentModelStrategy;
  /**
   * Long-term memory (`Baton.open({ agents: { memory } })`): with `recall`, before its first turn
   * the agent recalls the memories kept for `agent:<name>` most relevant to its task that fit in
   * `recall.tokens` (journaled `memory.recalled`; replay reads them back) and reads them at the end
   * of its system prompt.
   */
  memory?: AgentMemoryOptions;
  /**
   * Selective hydration: when the conversation's text is over `tokens`, each model call sends the
   * system prompt, the task, the latest turn and the earlier turns most relevant to them that fit
   * (see hydrateHistory), instead of the whole history. The journal refers to what was sent, and
   * `llm.called.hydration` says how much was left out.
   */
  historyBudget?: HistoryBudget;
}

/** An agent's long-term memory (see {@link AgentOptions.memory}). */
export interface AgentMemoryOptions {
  recall?: Omit<RecallOptions, 'agent'>;
}

/** An agent's guardrails (see src/guard/guardrail.ts); `tools` as a list checks both arguments and results. */
export interface AgentGuardrails {
  input?: readonly AgentGuardrail[];
  output?: readonly AgentGuardrail[];
  tools?:
    readonly AgentGuardrail[] | { before?: readonly AgentGuardrail[]; after?: readonly AgentGuardrail[] };
}

/** A guardrail as the agents layer sees it: a function, or an object with a name and `check` (src/guard). */
export type AgentGuardrail =
  | ((value: any, context: any) => unknown)
  | { readonly name: string; check(value: any, context: any): unknown };

/** An agent, frozen. Create with {@link agent}. */
export interface AgentDefinition<Output = string> {
  readonly kind: 'agent';
  readonly name: string;
  readonly description: string;
  readonly instructions: string;
  readonly model: ModelSpec;
  readonly tools: readonly (ToolDefinition | AgentDefinition<any>)[];
  /** The handoff targets (resolved when called). */
  handoffs(): readonly AgentDefinition<any>[];
  readonly maxTurns: number;
  readonly output: z.ZodType<Output> | undefined;
  readonly parameters: ModelParameters;
  readonly providerOptions: SharedV4ProviderOptions | undefined;
  readonly retry: RetryPolicy | undefined;
  readonly timeoutMs: number;
  readonly maxInvalidToolCalls: number;
  /** Undefined for the default, 'run_llm_again'. */
  readonly toolUseBehavior: ToolUseBehavior | undefined;
  readonly guardrails: AgentGuardrails | undefined;
  /** The needs the agent declared, or undefined for the default (see {@link AgentOptions.needs}). */
  readonly needs: readonly string[] | undefined;
  readonly pool: string | undefined;
  /** The agent's cache settings (TTL in ms, threshold), or undefined when it does not cache. */
  readonly cache: { readonly ttlMs?: number; readonly threshold?: number } | undefined;
  readonly routing: AgentModelStrategy | undefined;
  readonly memory: AgentMemoryOptions | undefined;
  readonly historyBudget: HistoryBudget | undefined;
}

export type AgentOutput<A> = A extends AgentDefinition<infer O> ? O : never;

const AGENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Defines an agent. Checked now (name, model id, tools, limits; a model id's API key when it is first called) and frozen; run it
 * with `ctx.runAgent(agent, { task, context })` or `runAgent(ctx, agent, input)`.
 *
 * @example
 * const billing = agent({
 *   name: 'billing',
 *   description: 'Refunds, invoices and charges',
 *   instructions: 'You resolve billing tickets. Refund only what the ticket asks for.',
 *   model: 'openai:gpt-4.1-mini',
 *   tools: [refund],
 *   maxTurns: 8,
 * });
 */
export function agent<Output = string>(options: AgentOptions<Output>): AgentDefinition<Output> {
  const { name } = options;
  if (typeof name !== 'string' || !AGENT_NAME.test(name)) {
    throw new InvalidArgumentError(
      `Agent name '${String(name)}' must be 1–64 characters of letters, digits, '_', '-' or '.'.`,
    );
  }
  if (typeof options.description !== 'string' || options.description.trim() === '') {
    throw new InvalidArgumentError(`Agent '${name}' needs a description: other agents and routing read it.`);
  }
  if (typeof options.instructions !== 'string') {
    throw new InvalidArgumentError(`Agent '${name}' needs instructions (its system prompt) as a string.`);
  }
  // The id is checked now (a registered provider); its API key and provider package only when the
  // model is first called, so reading the journal of an agent's runs needs no key.
  const routing =
    options.routing === undefined
      ? undefined
      : checkAgentStrategy(options.routing, name, (spec) => checkModelSpec(spec, name));
  const model = options.model ?? (routing ? choiceSpec(strategyChoices(routing)[0]!) : undefined);
  if (model === undefined) {
    throw new InvalidArgumentError(`Agent '${name}' needs a model (or routing to choose one).`);
  }
  checkModelSpec(model, name);
  const cache = checkAgentCache(options.cache, name);
  const memory = checkMemory(options.memory, name);
  const historyBudget =
    options.historyBudget === undefined ? undefined : checkHistoryBudget(options.historyBudget, name);
  const maxTurns = options.maxTurns ?? 10;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) {
    throw new InvalidArgumentError(`Agent '${name}' has maxTurns ${maxTurns}; use an integer ≥ 1.`);
  }
  const maxInvalidToolCalls = options.maxInvalidToolCalls ?? 3;
  if (!Number.isInteger(maxInvalidToolCalls) || maxInvalidToolCalls < 0) {
    throw new InvalidArgumentError(
      `Agent '${name}' has maxInvalidToolCalls ${maxInvalidToolCalls}; use an integer ≥ 0.`,
    );
  }
  const tools = [...(options.tools ?? [])];
  for (const entry of tools) {
    if (!isToolDefinition(entry) && !isAgentDefinition(entry)) {
      throw new InvalidArgumentError(`Agent '${name}' has a tool that is neither a tool() nor an agent().`);
    }
  }
  if (
    options.output !== undefined &&
    typeof (options.output as { safeParse?: unknown }).safeParse !== 'function'
  ) {
    throw new InvalidArgumentError(`Agent '${name}' has an output that is not a zod schema.`);
  }
  checkGuardrails(name, options.guardrails);
  const toolUseBehavior = checkToolUseBehavior(
    name,
    options.toolUseBehavior,
    tools.filter((entry) => isToolDefinition(entry)).map((entry) => entry.name),
  );
  if (options.needs !== undefined) {
    if (!Array.isArray(options.needs))
      throw new InvalidArgumentError(`Agent '${name}' has needs that are not a list of grant actions.`);
    for (const need of options.needs) checkActionPattern(need);
  }
  if (options.pool !== undefined && (typeof options.pool !== 'string' || options.pool === '')) {
    throw new InvalidArgumentError(`Agent '${name}' has a pool that is not a pool's name.`);
  }
  const handoffs = options.handoffs;
  const parameters: ModelParameters = {
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
    ...(options.topP === undefined ? {} : { topP: options.topP }),
    ...(options.topK === undefined ? {} : { topK: options.topK }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.stopSequences === undefined ? {} : { stopSequences: [...options.stopSequences] }),
  };
  const definition: AgentDefinition<Output> = Object.freeze({
    kind: 'agent' as const,
    name,
    description: options.description,
    instructions: options.instructions,
    model,
    tools: Object.freeze(tools),
    handoffs: () => (typeof handoffs === 'function' ? handoffs() : (handoffs ?? [])),
    maxTurns,
    output: options.output,
    parameters: Object.freeze(parameters),
    providerOptions: options.providerOptions,
    retry: options.retry,
    timeoutMs: toMilliseconds(options.timeout ?? '5m', `agent '${name}' timeout`),
    maxInvalidToolCalls,
    toolUseBehavior,
    guardrails: options.guardrails,
    needs: options.needs === undefined ? undefined : Object.freeze([...options.needs]),
    pool: options.pool,
    cache,
    routing,
    memory,
    historyBudget,
  });
  // Name clashes among what the model is offered are a definition error, found now when possible.
  if (typeof handoffs !== 'function') toolTable(definition);
  return definition;
}

function checkMemory(memory: AgentMemoryOptions | undefined, agent: string): AgentMemoryOptions | undefined {
  if (memory === undefined) return undefined;
  if (typeof memory !== 'object' || memory === null)
    throw new InvalidArgumentError(
      `Agent '${agent}' has a memory option that is not { recall?: { tokens } }.`,
    );
  const recall = memory.recall;
  if (recall !== undefined) {
    if (typeof recall !== 'object' || recall === null)
      throw new InvalidArgumentError(`Agent '${agent}' has memory.recall that is not { tokens }.`);
    checkPositiveInteger(recall.tokens, `Agent '${agent}': memory.recall.tokens`);
    if (recall.k !== undefined) checkPositiveInteger(recall.k, `Agent '${agent}': memory.recall.k`);
    if (recall.minScore !== undefined)
      checkSimilarity(recall.minScore, `Agent '${agent}': memory.recall.minScore`);
    if (recall.recencyWeight !== undefined)
      checkUnitInterval(recall.recencyWeight, `Agent '${agent}': memory.recall.recencyWeight`);
    if (recall.halfLife !== undefined)
      toMilliseconds(recall.halfLife, `agent '${agent}' memory.recall.halfLife`);
  }
  return Object.freeze({ ...(recall === undefined ? {} : { recall: Object.freeze({ ...recall }) }) });
}

function checkGuardrails(agent: string, guardrails: AgentGuardrails | undefined): void {
  if (guardrails === undefined) return;
  const tools = guardrails.tools;
  const lists = {
    input: guardrails.input,
    output: guardrails.output,
    ...(Array.isArray(tools)
      ? { tools }
      : {
          'tools.before': (tools as { before?: unknown })?.before,
          'tools.after': (tools as { after?: unknown })?.after,
        }),
  };
  for (const [where, list] of Object.entries(lists)) {
    if (list === undefined) continue;
    if (!Array.isArray(list))
      throw new InvalidArgumentError(`Agent '${agent}' has guardrails.${where} that is not a list.`);
    list.forEach((entry: unknown, index) => {
      const ok =
        typeof entry === 'function' ||
        (typeof entry === 'object' &&
          entry !== null &&
          typeof (entry as { check?: unknown }).check === 'function');
      if (!ok) {
        throw new InvalidArgumentError(
          `Agent '${agent}' has guardrails.${where}[${index}] that is neither a function nor a guardrail (an object with check()).`,
        );
      }
    });
  }
}

export function isAgentDefinition(value: unknown): value is AgentDefinition<any> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'agent';
}

/** What a name offered to the model stands for. */
export type OfferTarget =
  | { kind: 'tool'; tool: ToolDefinition }
  | { kind: 'agent'; agent: AgentDefinition<any> }
  | { kind: 'handoff'; agent: AgentDefinition<any> };

export interface OfferedTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  target: OfferTarget;
}

/** The name a model sees for a tool: providers allow letters, digits, `_` and `-`. */
export function wireName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The input of an agent offered as a tool, built on first use (as zod is loaded). */
export const agentToolInput = lazyValue(() =>
  zod().object({
    task: zod().string().describe('What to ask the agent to do, with everything it needs to know.'),
  }),
);
/** The input of a handoff, built on first use. */
export const handoffInput = lazyValue(() =>
  zod().object({
    reason: zod().string().optional().describe('Why the conversation is handed over.'),
  }),
);

function schemaOf(schema: z.ZodType): Record<string, unknown> {
  const json = zod().toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Everything an agent offers the model, by the name the model sees. Throws on clashes. */
export function toolTable(definition: AgentDefinition<any>): Map<string, OfferedTool> {
  const table = new Map<string, OfferedTool>();
  const add = (offer: OfferedTool, original: string): void => {
    const clash = table.get(offer.name);
    if (clash) {
      throw new InvalidArgumentError(
        `Agent '${definition.name}' offers two tools the model would see as '${offer.name}' (from '${original}'); rename one.`,
      );
    }
    table.set(offer.name, offer);
  };
  for (const entry of definition.tools) {
    if (isToolDefinition(entry)) {
      add(
        {
          name: wireName(entry.name),
          description: entry.description,
          inputSchema: entry.jsonSchema,
          target: { kind: 'tool', tool: entry },
        },
        entry.name,
      );
    } else {
      add(
        {
          name: wireName(entry.name),
          description: `Ask the agent '${entry.name}': ${entry.description}`,
          inputSchema: schemaOf(agentToolInput()),
          target: { kind: 'agent', agent: entry },
        },
        entry.name,
      );
    }
  }
  for (const target of definition.handoffs()) {
    if (!isAgentDefinition(target)) {
      throw new InvalidArgumentError(`Agent '${definition.name}' has a handoff that is not an agent().`);
    }
    add(
      {
        name: `transfer_to_${wireName(target.name)}`,
        description: `Hand the conversation over to the agent '${target.name}': ${target.description}`,
        inputSchema: schemaOf(handoffInput()),
        target: { kind: 'handoff', agent: target },
      },
      target.name,
    );
  }
  return table;
}
