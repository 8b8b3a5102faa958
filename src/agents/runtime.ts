import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { WorkflowContext } from '../engine/context.ts';
import type { AgentDefinition } from './agent.ts';
import type { ModelCallInterceptor, ToolCallInterceptor } from './interceptors.ts';
import type { JournalMessage } from './messages.ts';
import { ConversationLedger } from './messages.ts';
import { resolveModel, type ModelProvider, type ModelSpec } from './models.ts';
import { DEFAULT_PRICES, findPrice, type ModelPrice, type PriceTable } from './prices.ts';
import type { SecretReader } from './tool.ts';

/** Options of the agents layer: `Baton.open({ agents: { … } })`. */
export interface AgentsOptions {
  /** Ordered interceptors for every tool and model call (see src/agents/interceptors.ts). */
  interceptors?: { tools?: readonly ToolCallInterceptor[]; models?: readonly ModelCallInterceptor[] };
  /** Prices per 1M tokens by model id, merged over {@link DEFAULT_PRICES}. */
  prices?: PriceTable;
  /** Model providers by prefix for this Baton, over the process-wide registry (registerModelProvider). */
  providers?: Readonly<Record<string, ModelProvider>>;
  /** Where tools get credentials, scoped by who asks. Default: no secrets. */
  secrets?: SecretBroker;
  /** Called with every token (and tool-input) delta of live model calls. Replays do not stream. */
  onStream?: (event: ModelStreamEvent) => void;
  /** Model-call retry delays up to this long are waited in memory; longer ones park the run. Default 2 s. */
  inlineRetryMs?: number;
}

/** Gives a tool the secrets its caller may use. Secrets never reach a model or the journal. */
export type SecretBroker = (
  name: string,
  request: { runId: string; tool: string; actor: string; onBehalfOf: readonly string[] },
) => string | undefined | Promise<string | undefined>;

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

const RUNTIME = Symbol.for('baton.agents.runtime');

/**
 * The agents layer of one Baton: its interceptors, model providers, prices, secret broker and live
 * stream. Baton creates one and attaches it to every run's ctx; `runAgent(ctx, …)` finds it there.
 */
export class AgentRuntime {
  readonly #toolInterceptors: ToolCallInterceptor[];
  readonly #modelInterceptors: ModelCallInterceptor[];
  readonly #providers: ReadonlyMap<string, ModelProvider>;
  readonly #prices: PriceTable;
  readonly #secrets: SecretBroker | undefined;
  readonly #listeners = new Set<(event: ModelStreamEvent) => void>();
  readonly #models = new Map<string, LanguageModelV4>();
  readonly #states = new WeakMap<object, ConversationLedger>();
  readonly inlineRetryMs: number;
  /** Input and output checks of agents (installed by src/guard), or none. */
  agentChecks: AgentChecks | undefined;

  constructor(options: AgentsOptions = {}) {
    this.#toolInterceptors = [...(options.interceptors?.tools ?? [])];
    this.#modelInterceptors = [...(options.interceptors?.models ?? [])];
    this.#providers = new Map(Object.entries(options.providers ?? {}));
    this.#prices = { ...DEFAULT_PRICES, ...options.prices };
    this.#secrets = options.secrets;
    this.inlineRetryMs = options.inlineRetryMs ?? 2000;
    if (options.onStream) this.#listeners.add(options.onStream);
  }

  get toolInterceptors(): readonly ToolCallInterceptor[] {
    return this.#toolInterceptors;
  }

  get modelInterceptors(): readonly ModelCallInterceptor[] {
    return this.#modelInterceptors;
  }

  /** Appends interceptors after those given at open (for layers that register themselves). */
  intercept(interceptors: {
    tools?: readonly ToolCallInterceptor[];
    models?: readonly ModelCallInterceptor[];
  }): void {
    this.#toolInterceptors.push(...(interceptors.tools ?? []));
    this.#modelInterceptors.push(...(interceptors.models ?? []));
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

  secretsFor(request: {
    runId: string;
    tool: string;
    actor: string;
    onBehalfOf: readonly string[];
  }): SecretReader {
    const broker = this.#secrets;
    return {
      get: async (name) => (broker ? await broker(name, request) : undefined),
    };
  }

  /** What this activation of the run has journaled of its conversations (rebuilt by replay). */
  ledger(ctx: WorkflowContext): ConversationLedger {
    let ledger = this.#states.get(ctx);
    if (!ledger) this.#states.set(ctx, (ledger = new ConversationLedger()));
    return ledger;
  }

  /** Makes this runtime the one `runAgent(ctx, …)` uses for `ctx`. */
  attach(ctx: WorkflowContext): void {
    Object.defineProperty(ctx, RUNTIME, { value: this, configurable: true });
  }
}

let fallback: AgentRuntime | undefined;

/** The runtime attached to `ctx`, or a default one (no interceptors, default prices). */
export function runtimeOf(ctx: WorkflowContext): AgentRuntime {
  const attached = (ctx as unknown as Record<symbol, AgentRuntime | undefined>)[RUNTIME];
  return attached ?? (fallback ??= new AgentRuntime());
}
