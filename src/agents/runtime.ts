import { disguisesOf } from '../journal/secret-disguises.ts';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { Authorizer } from '../access/access-request.ts';
import type { SecretRequest, SecretResolver } from '../access/secret-broker.ts';
import type { WorkflowContext } from '../engine/context.ts';
import { START_EVENTS } from '../engine/engine-flags.ts';
import type { Embedder } from '../routing/embedder.ts';
import { WordVectorEmbedder } from '../routing/word-vector-embedder.ts';
import { LongTermMemory, type LongTermMemoryOptions } from '../routing/memory.ts';
import { SemanticCache, type SemanticCacheOptions } from '../routing/semantic-cache.ts';
import type { VectorRecordStore } from '../store/vector-records.ts';
import type { AgentDefinition } from './agent.ts';
import { agentPools, toolPools } from './agent-needs.ts';
import type { ModelCallInterceptor, ToolCallInterceptor } from './interceptors.ts';
import type { JournalMessage } from './messages.ts';
import { ConversationLedger } from './messages.ts';
import { AgentsLayerMissingError } from './errors.ts';
import { checkModelId, resolveModel, type ModelProvider, type ModelSpec } from './models.ts';
import { DEFAULT_PRICES, findPrice, type ModelPrice, type PriceTable } from '../routing/prices.ts';
import type { SecretReader, ToolDefinition } from './tool.ts';

/** Options of the agents layer: `Baton.open({ agents: { … } })`. */
export interface AgentsOptions {
  /** Ordered interceptors for every tool and model call (see src/agents/interceptors.ts). */
  interceptors?: { tools?: readonly ToolCallInterceptor[]; models?: readonly ModelCallInterceptor[] };
  /** Prices per 1M tokens by model id, merged over {@link DEFAULT_PRICES}. */
  prices?: PriceTable;
  /** Model providers by prefix for this Baton, over the process-wide registry (registerModelProvider). */
  providers?: Readonly<Record<string, ModelProvider>>;
  /**
   * Where tools get credentials, scoped by who asks. Default: `Baton.open({ secrets })`'s broker,
   * else no secrets. Values handed out are scrubbed from tool results and errors before they reach
   * a model or the journal.
   */
  secrets?: SecretResolver;
  /** Called with every token (and tool-input) delta of live model calls. Replays do not stream. */
  onStream?: (event: ModelStreamEvent) => void;
  /** Model-call retry delays up to this long are waited in memory; longer ones park the run. Default 2 s. */
  inlineRetryMs?: number;
  /**
   * Journal a start event before each live attempt of a model call (`llm.started`) and a tool call
   * (`tool.started`), so every view shows what is in flight, and since when. Runs started by
   * engines before flag 3 journal none. Default false: each start is one more event per call (and,
   * for a model call, one more commit before it is sent).
   */
  startEvents?: boolean;
  /**
   * The semantic cache that agents with `agent({ cache })` answer from: a SemanticCache, or its
   * settings (`{ maxErrorRate: 0.01, ttl: '12h' }`, the built-in offline WordVectorEmbedder unless `embedder`)
   * to keep one in the Baton's store (which must offer vector records). Entries never cross tenants.
   *
   * @example Baton.open({ store, workflows, agents: { cache: { threshold: 0.95, ttl: '1d' } } })
   */
  cache?: SemanticCache | AgentsCacheSettings;
  /**
   * The long-term memory that agents with `agent({ memory: { recall } })` recall from: a
   * LongTermMemory, or `{ embedder? }` to keep one in the Baton's store. Agents recall the memories
   * kept for `agent:<name>` (`ctx.memory.remember(text, { agent: 'agent:billing' })`).
   */
  memory?: LongTermMemory | AgentsMemorySettings;
}

/** Settings of the semantic cache a Baton keeps in its store (see {@link AgentsOptions.cache}). */
export type AgentsCacheSettings = Omit<SemanticCacheOptions, 'records' | 'embedder'> & {
  embedder?: Embedder;
};

/** Settings of the long-term memory a Baton keeps in its store (see {@link AgentsOptions.memory}). */
export type AgentsMemorySettings = Omit<LongTermMemoryOptions, 'records' | 'embedder'> & {
  embedder?: Embedder;
};

/** How the agents layer authorizes and narrows delegations (set by Baton from its access options). */
export interface AgentAccess {
  /**
   * The policies that decide HandOff for handoffs and agents called as tools (default deny), or
   * undefined when none are configured: then a caller holding a grant is decided by it alone, and
   * one holding none is not checked.
   */
  readonly policies: Authorizer | undefined;
  /** The deepest grant delegation. */
  readonly maxDelegationDepth: number;
}

/** Secret values shorter than this are not scrubbed from text (they would match everywhere). */
const MIN_SCRUB_LENGTH = 6;
/** What a scrubbed secret reads as. */
export const SCRUBBED_SECRET = '[secret]';

/** A live fragment of a model call, for the CLI and UI. The journal keeps only the final response. */
export interface ModelStreamEvent {
  runId: string;
  op: number;
  agent: string;
  attempt: number;
  type: 'start' | 'text' | 'reasoning' | 'tool-input' | 'tool-call' | 'finish' | 'error';
  delta?: string;
  toolName?: string;
  callId?: string;
  finishReason?: string;
  error?: string;
}

/**
 * Checks of what agents are given and what they answer, installed by the layers above (src/guard's
 * guardrails). Each may journal through `ctx.operations` (taking ops only when it has something to
 * check, so runs without checks keep their history), rewrite, or throw to stop the agent.
 */
export interface AgentChecks {
  /** The agent's task, before its loop starts. */
  input?(ctx: WorkflowContext, agent: AgentDefinition<any>, task: JournalMessage): Promise<JournalMessage>;
  /** The agent's final answer (`output` is the parsed value of an agent with an output schema, else the text). */
  output?(
    ctx: WorkflowContext,
    agent: AgentDefinition<any>,
    answer: { text: string; output: unknown },
  ): Promise<{ text: string; output: unknown }>;
}

/**
 * The agents layer of one Baton: its interceptors, model providers, prices, secret broker and live
 * stream. Baton creates one; the agents layer gives every run's ctx its activation (`ctx.agents`),
 * where `runAgent(ctx, …)` finds it.
 */
export class AgentRuntime {
  readonly #toolInterceptors: ToolCallInterceptor[];
  readonly #modelInterceptors: ModelCallInterceptor[];
  readonly #providers: ReadonlyMap<string, ModelProvider>;
  readonly #prices: PriceTable;
  readonly #secrets: SecretResolver | undefined;
  readonly #handedOut = new Set<string>();
  readonly #checked = new WeakSet<object>();
  readonly #listeners = new Set<(event: ModelStreamEvent) => void>();
  readonly #models = new Map<string, LanguageModelV4>();
  readonly inlineRetryMs: number;
  readonly #startEvents: boolean;
  /** Input and output checks of agents (installed by src/guard), or none. */
  agentChecks: AgentChecks | undefined;
  /** Access control (installed by Baton from src/access); without it, grants still narrow, decided by grants alone. */
  access: AgentAccess | undefined;
  /** Checks a pool name (Baton's pools); without it, pool names are checked when a call waits. */
  assertPool: ((pool: string, where: string) => void) | undefined;
  /** The semantic cache of `agent({ cache })` agents (from {@link AgentsOptions.cache}, or set after open). */
  cache: SemanticCache | undefined;
  /** The long-term memory of `agent({ memory })` agents (from {@link AgentsOptions.memory}, or set after open). */
  memory: LongTermMemory | undefined;

  /**
   * `parts.vectorRecords` is the store's capability the cache and memory settings are kept in
   * (Baton passes its store's); a SemanticCache or LongTermMemory given whole needs none.
   */
  constructor(options: AgentsOptions = {}, parts: { vectorRecords?: VectorRecordStore | undefined } = {}) {
    this.#toolInterceptors = [...(options.interceptors?.tools ?? [])];
    this.#modelInterceptors = [...(options.interceptors?.models ?? [])];
    this.#providers = new Map(Object.entries(options.providers ?? {}));
    this.#prices = { ...DEFAULT_PRICES, ...options.prices };
    this.#secrets = options.secrets;
    this.inlineRetryMs = options.inlineRetryMs ?? 2000;
    this.#startEvents = options.startEvents === true;
    if (options.onStream) this.#listeners.add(options.onStream);
    const { cache, memory } = options;
    this.cache =
      cache === undefined || cache instanceof SemanticCache
        ? cache
        : new SemanticCache({
            ...cache,
            records: parts.vectorRecords,
            embedder: cache.embedder ?? new WordVectorEmbedder(),
          });
    this.memory =
      memory === undefined || memory instanceof LongTermMemory
        ? memory
        : new LongTermMemory({
            ...memory,
            records: parts.vectorRecords,
            embedder: memory.embedder ?? new WordVectorEmbedder(),
          });
  }

  get toolInterceptors(): readonly ToolCallInterceptor[] {
    return this.#toolInterceptors;
  }

  get modelInterceptors(): readonly ModelCallInterceptor[] {
    return this.#modelInterceptors;
  }

  /**
   * Appends interceptors after those given at open (for layers that register themselves), or with
   * `{ first: true }` puts them before all others (access control decides before anything else).
   */
  intercept(
    interceptors: { tools?: readonly ToolCallInterceptor[]; models?: readonly ModelCallInterceptor[] },
    options: { first?: boolean } = {},
  ): void {
    const where = options.first ? 'unshift' : 'push';
    this.#toolInterceptors[where](...(interceptors.tools ?? []));
    this.#modelInterceptors[where](...(interceptors.models ?? []));
  }

  /**
   * Checks, once per definition, that every pool an agent (its model calls, its tools, the agents
   * it calls or hands off to) or a tool names is configured. Throws UnknownPoolError naming where.
   */
  checkPools(definition: AgentDefinition<any> | ToolDefinition): void {
    if (!this.assertPool || this.#checked.has(definition)) return;
    const pools = definition.kind === 'agent' ? agentPools(definition) : toolPools(definition);
    for (const { pool, where } of pools) this.assertPool(pool, where);
    this.#checked.add(definition);
  }

  /** Subscribes to live model output; returns the unsubscribe function. */
  onStream(listener: (event: ModelStreamEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: ModelStreamEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not fail the model call.
      }
    }
  }

  get streaming(): boolean {
    return this.#listeners.size > 0;
  }

  /** Checks a model id and its API key now (a fork that overrides the model is about to call it). */
  checkModelId(id: string, agent: string): void {
    checkModelId(id, agent, this.#providers);
  }

  resolveModel(spec: ModelSpec, agent: string): LanguageModelV4 {
    if (typeof spec !== 'string') return resolveModel(spec, agent);
    let model = this.#models.get(spec);
    if (!model) {
      model = resolveModel(spec, agent, this.#providers);
      this.#models.set(spec, model);
    }
    return model;
  }

  price(provider: string, modelId: string): ModelPrice | undefined {
    return findPrice(this.#prices, provider, modelId);
  }

  secretsFor(request: SecretRequest): SecretReader {
    const resolve = this.#secrets;
    return {
      get: async (name) => {
        const value = resolve ? await resolve(name, request) : undefined;
        if (typeof value === 'string' && value.length >= MIN_SCRUB_LENGTH)
          for (const form of disguisesOf(value, MIN_SCRUB_LENGTH)) this.#handedOut.add(form);
        return value;
      },
    };
  }

  /**
   * A copy of `value` with every secret value this runtime handed to a tool replaced by
   * `[secret]`, wherever it occurs in a string (keys included), in its common disguises too
   * (base64, base64url, URL-encoded, hex, JSON-escaped): for tool results and errors before
   * they reach a model or the journal. `value` itself is returned when there is nothing to scrub.
   */
  scrub<T>(value: T): T {
    if (this.#handedOut.size === 0) return value;
    const secrets = [...this.#handedOut].sort((a, b) => b.length - a.length);
    let changed = false;
    const clean = (text: string): string => {
      let out = text;
      for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(SCRUBBED_SECRET);
      if (out !== text) changed = true;
      return out;
    };
    const walk = (item: unknown): unknown => {
      if (typeof item === 'string') return clean(item);
      if (item === null || typeof item !== 'object') return item;
      if (Array.isArray(item)) return item.map(walk);
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(item as Record<string, unknown>))
        out[clean(key)] = walk(inner);
      return out;
    };
    const result = walk(value) as T;
    return changed ? result : value;
  }

  /** Whether live attempts in this run journal start events (`startEvents`, and a run started with engine flag 3). */
  journalsStarts(ctx: WorkflowContext): boolean {
    return this.#startEvents && ctx.operations.hasFlag(START_EVENTS);
  }

  /** What `ctx`'s activation has journaled of its conversations (rebuilt by replay). */
  ledger(ctx: WorkflowContext): ConversationLedger {
    return agentsOf(ctx).ledger;
  }
}

/**
 * The agents layer of one activation of a run, as `ctx.agents`: the runtime its agents and tools
 * run under, and what the activation has journaled of its conversations (rebuilt by replay).
 */
export class AgentsActivation {
  readonly runtime: AgentRuntime;
  readonly ledger = new ConversationLedger();

  constructor(runtime: AgentRuntime) {
    this.runtime = runtime;
  }
}

/**
 * The agents layer of `ctx`'s activation.
 *
 * @throws AgentsLayerMissingError for a ctx the agents layer did not extend.
 */
export function agentsOf(ctx: WorkflowContext, what = 'runAgent'): AgentsActivation {
  if ('agents' in ctx && ctx.agents instanceof AgentsActivation) return ctx.agents;
  throw new AgentsLayerMissingError({ what });
}

/** The runtime the agents of `ctx`'s activation run under. */
export function runtimeOf(ctx: WorkflowContext): AgentRuntime {
  return agentsOf(ctx).runtime;
}
