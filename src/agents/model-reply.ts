import type { SharedV4ProviderOptions } from '@ai-sdk/provider';
import type { JournalEventPayloads } from '../journal/events.ts';
import type { JournalMessage } from './messages.ts';
import type { ModelToolCall, ModelTurn, ModelTurnRequest } from './model-types.ts';
import type { TokenUsage } from '../routing/prices.ts';

/** A model's reply as a live call assembled it. */
export interface LiveResponse {
  message: JournalMessage;
  text: string;
  toolCalls: ModelToolCall[];
  finishReason: string;
  usage: TokenUsage;
  id?: string;
  modelId?: string;
}

/**
 * The reply as it is journaled and kept in the conversation: the arguments of tool calls to tools
 * that redact replaced, each such part marked (`providerOptions.baton.redacted`) so replay knows
 * they are not the real ones. The tool calls to run keep the real arguments.
 */
export function redactReply(
  response: LiveResponse,
  redactToolCall: ModelTurnRequest['redactToolCall'],
): LiveResponse {
  if (!redactToolCall) return response;
  const content = response.message.content as {
    type: string;
    toolName?: string;
    input?: unknown;
    providerOptions?: SharedV4ProviderOptions;
  }[];
  let changed = false;
  const redacted = content.map((part) => {
    if (part.type !== 'tool-call') return part;
    const replaced = redactToolCall(part.toolName!, part.input);
    if (!replaced) return part;
    changed = true;
    return {
      ...part,
      input: replaced.input,
      providerOptions: { ...part.providerOptions, baton: { redacted: [...replaced.paths] } },
    };
  });
  return changed
    ? { ...response, message: { ...response.message, content: redacted } as JournalMessage }
    : response;
}

/** Rebuilds a model's reply from its `llm.called` event. */
export function turnFromJournal(payload: JournalEventPayloads['llm.called']): ModelTurn {
  const reply = payload.messages.at(-1) as JournalMessage | undefined;
  if (reply?.role !== 'assistant')
    throw new Error(`llm.called at op ${payload.op} does not hold the model's reply.`);
  return {
    ...replyOf(reply),
    finishReason: payload.response.finishReason,
    usage: payload.usage,
    cost: payload.cost,
  };
}

export function replyOf(message: JournalMessage): {
  message: JournalMessage;
  text: string;
  toolCalls: ModelToolCall[];
} {
  const content = message.content as {
    type: string;
    text?: string;
    toolCallId?: string;
    toolName?: string;
    input?: unknown;
    providerOptions?: { baton?: { redacted?: unknown } };
  }[];
  return {
    message,
    text: content
      .filter((part) => part.type === 'text')
      .map((part) => part.text ?? '')
      .join(''),
    toolCalls: content
      .filter((part) => part.type === 'tool-call')
      .map((part) => ({
        callId: part.toolCallId!,
        name: part.toolName!,
        input: part.input,
        parsed: typeof part.input !== 'string',
        ...(part.providerOptions?.baton?.redacted === undefined ? {} : { redacted: true }),
      })),
  };
}
