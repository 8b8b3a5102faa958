import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FunctionTool,
  LanguageModelV4StreamPart,
  SharedV4ProviderOptions,
} from '@ai-sdk/provider';
import { providerErrors } from './classify-model-error.ts';
import type { LiveResponse } from './model-reply.ts';
import type { ModelToolCall, ModelTurnRequest } from './model-types.ts';
import type { ModelStreamEvent } from './runtime.ts';
import type { TokenUsage } from '../routing/prices.ts';

/** A live delta of one attempt, before the runtime adds the run, op, agent and attempt. */
export type StreamNote = Omit<ModelStreamEvent, 'runId' | 'op' | 'agent' | 'attempt'>;

/** The AI SDK call options of a request. */
export function buildCallOptions(request: ModelTurnRequest): LanguageModelV4CallOptions {
  const tools: LanguageModelV4FunctionTool[] = request.tools.map((offer) => ({
    type: 'function',
    name: offer.name,
    description: offer.description,
    inputSchema: offer.inputSchema,
  }));
  return {
    prompt: request.messages as LanguageModelV4CallOptions['prompt'],
    ...request.parameters,
    ...(tools.length > 0 ? { tools, toolChoice: { type: 'auto' as const } } : {}),
    ...(request.responseSchema
      ? {
          responseFormat: {
            type: 'json' as const,
            schema: request.responseSchema,
            name: request.agent.replace(/[^A-Za-z0-9_-]/g, '_'),
          },
        }
      : {}),
    ...(request.providerOptions ? { providerOptions: request.providerOptions } : {}),
  };
}

/** Sends one request as a stream and assembles the response. Throws what the provider threw. */
export async function streamCall(
  model: LanguageModelV4,
  options: LanguageModelV4CallOptions,
  abort: AbortSignal,
  timeoutMs: number | undefined,
  emit: (event: StreamNote) => void,
): Promise<LiveResponse> {
  const signals = [abort];
  if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
  const signal = AbortSignal.any(signals);
  emit({ type: 'start' });
  const { stream } = await model.doStream({ ...options, abortSignal: signal });
  const reply = new ReplyAssembler(emit);
  for await (const part of stream as unknown as AsyncIterable<LanguageModelV4StreamPart>) reply.accept(part);
  return reply.finish();
}

type ReplyPart =
  | TextPart
  | {
      type: 'tool-call';
      toolCallId: string;
      toolName: string;
      input: unknown;
      providerOptions?: SharedV4ProviderOptions;
    };

interface TextPart {
  type: 'text' | 'reasoning';
  text: string;
  providerOptions?: SharedV4ProviderOptions;
}

/** Builds a reply from a model's stream parts, telling the runtime's listeners each delta. */
class ReplyAssembler {
  readonly #emit: (event: StreamNote) => void;
  readonly #parts: ReplyPart[] = [];
  readonly #open = new Map<string, TextPart>();
  readonly #toolCalls: ModelToolCall[] = [];
  #finishReason = 'other';
  #usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  #id: string | undefined;
  #modelId: string | undefined;
  #finished = false;

  constructor(emit: (event: StreamNote) => void) {
    this.#emit = emit;
  }

  accept(part: LanguageModelV4StreamPart): void {
    switch (part.type) {
      case 'text-start':
      case 'reasoning-start':
        this.#textPart(part.type === 'text-start' ? 'text' : 'reasoning', part.id);
        break;
      case 'text-delta':
        this.#textPart('text', part.id).text += part.delta;
        this.#emit({ type: 'text', delta: part.delta });
        break;
      case 'reasoning-delta':
        this.#textPart('reasoning', part.id).text += part.delta;
        this.#emit({ type: 'reasoning', delta: part.delta });
        break;
      case 'text-end':
      case 'reasoning-end':
        this.#closeText(
          `${part.type === 'text-end' ? 'text' : 'reasoning'}:${part.id}`,
          part.providerMetadata,
        );
        break;
      case 'tool-input-start':
        this.#emit({ type: 'tool-input', toolName: part.toolName, callId: part.id });
        break;
      case 'tool-input-delta':
        this.#emit({ type: 'tool-input', delta: part.delta, callId: part.id });
        break;
      case 'tool-call':
        if (!part.providerExecuted) this.#toolCall(part);
        break;
      case 'response-metadata':
        this.#id ??= part.id;
        this.#modelId ??= part.modelId;
        break;
      case 'finish':
        this.#finish(part);
        break;
      case 'error':
        this.#emit({ type: 'error', error: String((part.error as Error)?.message ?? part.error) });
        throw part.error;
      default:
        break;
    }
  }

  finish(): LiveResponse {
    if (!this.#finished)
      throw new (providerErrors().InvalidResponseDataError)({
        data: undefined,
        message: 'The response stream ended without a finish part.',
      });
    const content = this.#parts
      .filter((part) => part.type === 'tool-call' || part.text !== '')
      .map((part) => (part.providerOptions ? part : stripUndefined(part)));
    const text = this.#parts
      .filter((part): part is TextPart & { type: 'text' } => part.type === 'text')
      .map((part) => part.text)
      .join('');
    this.#emit({ type: 'finish', finishReason: this.#finishReason });
    return {
      message: { role: 'assistant', content: content },
      text,
      toolCalls: this.#toolCalls,
      finishReason: this.#finishReason,
      usage: this.#usage,
      ...(this.#id === undefined ? {} : { id: this.#id }),
      ...(this.#modelId === undefined ? {} : { modelId: this.#modelId }),
    };
  }

  #textPart(kind: 'text' | 'reasoning', partId: string): TextPart {
    const key = `${kind}:${partId}`;
    const existing = this.#open.get(key);
    if (existing) return existing;
    const part: TextPart = { type: kind, text: '' };
    this.#open.set(key, part);
    this.#parts.push(part);
    return part;
  }

  #closeText(key: string, providerMetadata: SharedV4ProviderOptions | undefined): void {
    const done = this.#open.get(key);
    if (done && providerMetadata) done.providerOptions = providerMetadata;
    this.#open.delete(key);
  }

  #toolCall(part: Extract<LanguageModelV4StreamPart, { type: 'tool-call' }>): void {
    let input: unknown = part.input;
    let parsed = false;
    try {
      input = part.input.trim() === '' ? {} : (JSON.parse(part.input) as unknown);
      parsed = true;
    } catch {
      // Kept as text: the agent loop tells the model its arguments were not JSON.
    }
    this.#toolCalls.push({ callId: part.toolCallId, name: part.toolName, input, parsed });
    this.#parts.push({
      type: 'tool-call',
      toolCallId: part.toolCallId,
      toolName: part.toolName,
      input,
      ...(part.providerMetadata ? { providerOptions: part.providerMetadata } : {}),
    });
    this.#emit({ type: 'tool-call', toolName: part.toolName, callId: part.toolCallId });
  }

  #finish(part: Extract<LanguageModelV4StreamPart, { type: 'finish' }>): void {
    this.#finished = true;
    this.#finishReason = part.finishReason.unified;
    this.#usage = {
      inputTokens: part.usage.inputTokens.total ?? 0,
      outputTokens: part.usage.outputTokens.total ?? 0,
      ...(part.usage.inputTokens.cacheRead ? { cachedInputTokens: part.usage.inputTokens.cacheRead } : {}),
      ...(part.usage.outputTokens.reasoning ? { reasoningTokens: part.usage.outputTokens.reasoning } : {}),
    };
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
