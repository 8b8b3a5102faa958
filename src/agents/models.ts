import { createRequire } from 'node:module';
import type * as AnthropicProvider from '@ai-sdk/anthropic';
import type * as OpenAIProvider from '@ai-sdk/openai';
import type * as OpenAICompatibleProvider from '@ai-sdk/openai-compatible';
import type { LanguageModelV2, LanguageModelV3, LanguageModelV4 } from '@ai-sdk/provider';
import type * as AI from 'ai';
import { InvalidArgumentError } from '../errors.ts';

// Provider packages (and `ai`) load on first use: a run on an offline model never loads them.
const load = createRequire(import.meta.url);
import { MissingApiKeyError, UnknownModelError } from './errors.ts';

/** Any AI SDK language model object (spec v2, v3 or v4). */
export type LanguageModelObject = LanguageModelV4 | LanguageModelV3 | LanguageModelV2;

/**
 * What an agent's `model` can be: an AI SDK LanguageModel, or a model id string resolved by the
 * provider registry: `openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`,
 * `openai-compatible:http://localhost:11434/v1#llama3.2` (Ollama, vLLM, llama.cpp server).
 */
export type ModelSpec = string | LanguageModelObject;

export interface ModelProvider {
  /** The environment variable holding the API key, checked when a model of this provider is first called. */
  apiKeyVariable?: string;
  /** Builds the model for the part of the id after `prefix:`. */
  languageModel(modelId: string): LanguageModelObject;
}

const providers = new Map<string, ModelProvider>();
/** Models resolved from the process-wide registry, by id. */
const resolved = new Map<string, LanguageModelV4>();

/**
 * Adds (or replaces) a provider prefix for model id strings, for every Baton in the process.
 *
 * @example registerModelProvider('groq', { apiKeyVariable: 'GROQ_API_KEY', languageModel: (id) => createGroq()(id) });
 */
export function registerModelProvider(prefix: string, provider: ModelProvider): void {
  if (!/^[a-z][a-z0-9-]*$/.test(prefix)) {
    throw new InvalidArgumentError(
      `A model provider prefix is lower-case letters, digits and '-', got '${prefix}'.`,
    );
  }
  providers.set(prefix, provider);
  for (const id of resolved.keys()) if (id.startsWith(`${prefix}:`)) resolved.delete(id);
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const openai = lazy(() => (load('@ai-sdk/openai') as typeof OpenAIProvider).createOpenAI());
const anthropic = lazy(() => (load('@ai-sdk/anthropic') as typeof AnthropicProvider).createAnthropic());
const compatible = new Map<string, OpenAICompatibleProvider.OpenAICompatibleProvider>();

registerModelProvider('openai', { apiKeyVariable: 'OPENAI_API_KEY', languageModel: (id) => openai()(id) });
registerModelProvider('anthropic', {
  apiKeyVariable: 'ANTHROPIC_API_KEY',
  languageModel: (id) => anthropic()(id),
});
registerModelProvider('openai-compatible', {
  languageModel(spec) {
    const hash = spec.lastIndexOf('#');
    const baseURL = spec.slice(0, hash);
    const modelId = spec.slice(hash + 1);
    let provider = compatible.get(baseURL);
    if (!provider) {
      const apiKey = process.env.OPENAI_COMPATIBLE_API_KEY;
      const { createOpenAICompatible } = load('@ai-sdk/openai-compatible') as typeof OpenAICompatibleProvider;
      provider = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL,
        includeUsage: true,
        ...(apiKey ? { apiKey } : {}),
      });
      compatible.set(baseURL, provider);
    }
    return provider.chatModel(modelId);
  },
});

function parse(id: string): { prefix: string; rest: string } {
  const colon = id.indexOf(':');
  if (colon <= 0 || colon === id.length - 1) {
    throw new UnknownModelError({
      model: id,
      reason: `a model id reads 'provider:model' (${[...providers.keys()].map((p) => `${p}:…`).join(', ')})`,
    });
  }
  const prefix = id.slice(0, colon);
  const rest = id.slice(colon + 1);
  if (prefix === 'openai-compatible') {
    const hash = rest.lastIndexOf('#');
    if (hash <= 0 || hash === rest.length - 1 || !/^https?:\/\//.test(rest)) {
      throw new UnknownModelError({
        model: id,
        reason: `write it as 'openai-compatible:<baseURL>#<model>', e.g. openai-compatible:http://localhost:11434/v1#llama3.2`,
      });
    }
  }
  return { prefix, rest };
}

/**
 * Checks a model spec when an agent is defined, without loading a provider or reading a key: an id
 * string names a registered provider prefix (`openai:…`), an object is an AI SDK LanguageModel.
 * The API key is needed only when the model is called ({@link resolveModel}), so commands that
 * only read the journal (`baton runs`, `show`, `replay`) work without one.
 * Throws UnknownModelError.
 */
export function checkModelSpec(spec: ModelSpec, agent?: string): void {
  if (typeof spec !== 'string') {
    const version = (spec as { specificationVersion?: unknown } | null)?.specificationVersion;
    if (version === 'v4' || version === 'v3' || version === 'v2') return;
    throw new UnknownModelError({
      model: agent === undefined ? 'the model' : `the model of agent '${agent}'`,
      reason: `it is not an AI SDK LanguageModel (specificationVersion ${String(version)}; v2, v3 or v4 expected)`,
    });
  }
  const { prefix } = parse(spec);
  if (!providers.has(prefix)) {
    throw new UnknownModelError({
      model: spec,
      reason: `no provider '${prefix}' is registered (known: ${[...providers.keys()].join(', ')}; add one with registerModelProvider)`,
    });
  }
}

/**
 * Checks a model id string before its model is called: a known provider prefix, and its API key in
 * the environment. Throws UnknownModelError or MissingApiKeyError (naming the variable).
 */
export function checkModelId(
  id: string,
  agent?: string,
  overrides?: ReadonlyMap<string, ModelProvider>,
): void {
  const { prefix } = parse(id);
  const provider = overrides?.get(prefix) ?? providers.get(prefix);
  if (!provider) {
    throw new UnknownModelError({
      model: id,
      reason: `no provider '${prefix}' is registered (known: ${[...providers.keys()].join(', ')}; add one with registerModelProvider)`,
    });
  }
  const variable = provider.apiKeyVariable;
  if (variable !== undefined && !process.env[variable]) {
    throw new MissingApiKeyError({ variable, model: id, ...(agent === undefined ? {} : { agent }) });
  }
}

/**
 * Resolves a model spec to a v4 language model (adapting v2/v3 models). An id's API key is checked
 * when the model is called (MissingApiKeyError, terminal), not here: replaying, explaining or
 * forking a run resolves its agents' models without calling them.
 */
export function resolveModel(
  spec: ModelSpec,
  agent?: string,
  overrides?: ReadonlyMap<string, ModelProvider>,
): LanguageModelV4 {
  if (typeof spec === 'string') {
    const { prefix, rest } = parse(spec);
    const provider = overrides?.get(prefix) ?? providers.get(prefix);
    if (!provider) checkModelId(spec, agent, overrides);
    const override = overrides?.get(prefix);
    if (override) return keyCheckedOnCall(asV4(override.languageModel(rest), spec), spec, agent, overrides);
    let model = resolved.get(spec);
    if (!model) resolved.set(spec, (model = asV4(providers.get(prefix)!.languageModel(rest), spec)));
    return keyCheckedOnCall(model, spec, agent, overrides);
  }
  return asV4(spec, agent === undefined ? 'the model' : `the model of agent '${agent}'`);
}

/** The model, whose calls first check that the id's API key is set (MissingApiKeyError otherwise). */
function keyCheckedOnCall(
  model: LanguageModelV4,
  id: string,
  agent: string | undefined,
  overrides: ReadonlyMap<string, ModelProvider> | undefined,
): LanguageModelV4 {
  const { prefix } = parse(id);
  if ((overrides?.get(prefix) ?? providers.get(prefix))?.apiKeyVariable === undefined) return model;
  return new Proxy(model, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if ((property !== 'doStream' && property !== 'doGenerate') || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        checkModelId(id, agent, overrides);
        return (value as (...args: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

function asV4(model: LanguageModelObject, what: string): LanguageModelV4 {
  const version = (model as { specificationVersion?: unknown } | null)?.specificationVersion;
  if (version === 'v4') return model as LanguageModelV4;
  if (version === 'v3' || version === 'v2')
    return (load('ai') as typeof AI).wrapLanguageModel({ model, middleware: [] });
  throw new UnknownModelError({
    model: what,
    reason: `it is not an AI SDK LanguageModel (specificationVersion ${String(version)}; v2, v3 or v4 expected)`,
  });
}

/** `provider:modelId` for messages and the journal. */
export function describeModel(model: LanguageModelV4): string {
  return `${model.provider}:${model.modelId}`;
}
