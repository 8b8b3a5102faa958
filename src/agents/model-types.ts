import type { LanguageModelV4, SharedV4ProviderOptions } from '@ai-sdk/provider';
import type { RetryPolicy } from '../engine/retry.ts';
import type { SemanticCache } from '../routing/semantic-cache.ts';
import type { AgentScope } from './agent-scope.ts';
import type { HydrationSummary } from './history-budget.ts';
import type { JournalMessage } from './messages.ts';
import type { CallCost, TokenUsage } from '../routing/prices.ts';
import type { AgentModelStrategy } from './turn-model-selection.ts';

/** A tool as offered to the model. */
export interface ToolOffer {
  /** The name the model sees (dots become underscores). */
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelTurnRequest {
  agent: string;
  model: LanguageModelV4;
  scope: AgentScope;
  messages: readonly JournalMessage[];
  tools: readonly ToolOffer[];
  /** Sampling parameters, journaled as given. */
  parameters: ModelParameters;
  providerOptions?: SharedV4ProviderOptions;
  /** When set, the model is asked for JSON matching this schema. */
  responseSchema?: Record<string, unknown>;
  retry?: RetryPolicy;
  /** Each attempt is abandoned (and retried) after this many ms. */
  timeoutMs?: number;
  /** 1 for the agent's first call. */
  turn: number;
  /**
   * The resource pool each attempt holds a slot of, reserving `estimateModelTokens(request)` tokens
   * and correcting them from the usage the provider reports.
   */
  pool?: string;
  /**
   * For a tool call in the reply: its arguments with fields replaced, when the tool redacts some
   * (`tool({ redact })`). The reply is journaled, and kept in the conversation, with them; the
   * turn's `toolCalls` keep the real arguments for this activation.
   */
  redactToolCall?: (name: string, input: unknown) => { input: unknown; paths: readonly string[] } | undefined;
  /**
   * Answer from the semantic cache when it holds this request (exactly, or one similar enough) in
   * the run's tenant; store replies that call no tool with side effects (`agent({ cache })`).
   */
  cache?: TurnCache;
  /**
   * Choose the model of this call (`agent({ routing })`): `model` is then only what interceptors
   * are told. The whole decision, a cascade's rejected answers included, is this one op.
   */
  routing?: AgentModelStrategy;
  /** What selective hydration left out of `messages` (`agent({ historyBudget })`), journaled with the call. */
  hydration?: HydrationSummary;
}

export interface ModelParameters {
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stopSequences?: string[];
}

export interface ModelToolCall {
  callId: string;
  /** The name the model used (a wire name). */
  name: string;
  /** The parsed arguments, or the raw text when it was not JSON. */
  input: unknown;
  /** False when the arguments were not valid JSON. */
  parsed: boolean;
  /** True when `input` was read back from a journal that holds it redacted (see ModelTurnRequest.redactToolCall). */
  redacted?: boolean;
}

/** A model's reply, from the call or from the journal. */
export interface ModelTurn {
  message: JournalMessage;
  text: string;
  toolCalls: ModelToolCall[];
  finishReason: string;
  usage: TokenUsage;
  cost: CallCost;
}

/** How one model call uses the semantic cache (set by the agent loop). */
export interface TurnCache {
  /** The Baton's cache; undefined when it has none (a live call then fails with ConfigError; replay needs none). */
  cache: SemanticCache | undefined;
  threshold?: number;
  ttlMs?: number;
  /** What entries are scoped to besides the tenant, system prompt and tools: `provider:model`, or `routing:<model ids>`. */
  model: string;
  /** Whether a reply may become an entry: false when it calls a tool with side effects. */
  storable(toolCalls: readonly ModelToolCall[]): boolean;
}

/** A reply as the cache keeps it: the model's message and which model gave it. */
export interface CachedReply {
  message: JournalMessage;
  finishReason: string;
  provider: string;
  model: string;
}
