import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4Content,
  type LanguageModelV4FinishReason,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4Prompt,
  type LanguageModelV4StreamPart,
  type LanguageModelV4Usage,
} from '@ai-sdk/provider';

/** One reply of a {@link scriptedModel}. */
export interface ScriptedReply {
  text?: string;
  /** Tool calls, by the tool's Baton name (`payments.refund`) or the name the model sees (`payments_refund`). */
  toolCalls?: readonly { name: string; args: unknown; id?: string }[];
  /** A structured answer: sent as its JSON text. */
  output?: unknown;
  reasoning?: string;
  usage?: { inputTokens?: number; outputTokens?: number };
  /** Default: `tool-calls` when there are tool calls, else `stop`. */
  finishReason?: LanguageModelV4FinishReason['unified'];
  /** Fail this call instead, as a provider would: an HTTP status (429 and 5xx are retryable) or an Error. */
  error?: Error | { status: number; message?: string; retryAfterSeconds?: number };
}

/** A turn of the script: a text reply, a reply, or a function of the request that returns one. */
export type ScriptedTurn = string | ScriptedReply | ((request: ScriptedRequest) => string | ScriptedReply);

/** What the scripted model was asked, as recorded. */
export interface ScriptedRequest {
  /** 1 for the first call this model object received. */
  call: number;
  /** The turn of the script that answers it: 1 for the first. */
  turn: number;
  prompt: LanguageModelV4Prompt;
  /** Names of the tools offered, as the model sees them. */
  tools: string[];
  /** The text of the last user message. */
  lastUserText: string;
  /** The results of the tool calls since the last assistant message, in order. */
  toolResults: { toolName: string; callId: string; output: unknown; isError: boolean }[];
  streamed: boolean;
  options: LanguageModelV4CallOptions;
}

export interface ScriptedModel extends LanguageModelV4 {
  /** Every call received, in order. */
  readonly calls: readonly ScriptedRequest[];
  /** Turns not used yet. */
  readonly remaining: number;
}

export interface ScriptedModelOptions {
  modelId?: string;
  provider?: string;
  /** Characters per streamed text delta. Default 8. */
  chunkSize?: number;
}

/**
 * An offline model that follows a script of turns and records the calls it got. It is a real AI
 * SDK LanguageModel (spec v4): Baton calls it exactly as it calls a provider, streaming included.
 * Running out of turns fails the call with a message that says so.
 *
 * The turn follows the conversation it is sent: a request whose messages hold one of this script's
 * replies (recognised by a tool call it scripted: its id, name and arguments) is answered by the
 * turn after it, so an agent resumed in another process after a crash continues where it was.
 * Otherwise, and when a later turn has already been played by this object (conversations sharing
 * one script, a retried call), the next unplayed turn answers.
 *
 * @example
 * const model = scriptedModel([
 *   { toolCalls: [{ name: 'search', args: { query: 'refund policy' } }] },
 *   (request) => `The policy says: ${JSON.stringify(request.toolResults[0]?.output)}`,
 * ]);
 * const helper = agent({ name: 'helper', description: '…', instructions: '…', model, tools: [search] });
 */
export function scriptedModel(
  turns: readonly ScriptedTurn[],
  options: ScriptedModelOptions = {},
): ScriptedModel {
  const calls: ScriptedRequest[] = [];
  let next = 0;
  const modelId = options.modelId ?? 'scripted';
  const chunkSize = options.chunkSize ?? 8;

  const take = (
    callOptions: LanguageModelV4CallOptions,
    streamed: boolean,
  ): { reply: ScriptedReply; request: ScriptedRequest } => {
    next = Math.max(next, turnFollowing(callOptions.prompt, turns));
    const request = describe(callOptions, calls.length + 1, next + 1, streamed);
    calls.push(request);
    const turn = turns[next];
    if (turn === undefined) {
      throw new Error(
        `The scripted model '${modelId}' has no turn ${request.turn} (call ${request.call}): its script has ${turns.length} turn(s).`,
      );
    }
    next++;
    const resolved = typeof turn === 'function' ? turn(request) : turn;
    const reply = typeof resolved === 'string' ? { text: resolved } : resolved;
    if (reply.error) throw toProviderError(reply.error);
    return { reply, request };
  };

  const model: ScriptedModel = {
    specificationVersion: 'v4',
    provider: options.provider ?? 'baton-testing',
    modelId,
    supportedUrls: {},
    get calls() {
      return calls;
    },
    get remaining() {
      return turns.length - next;
    },
    async doGenerate(callOptions): Promise<LanguageModelV4GenerateResult> {
      const { reply, request } = take(callOptions, false);
      const content = contentOf(reply, request);
      return {
        content,
        finishReason: finishOf(reply, content),
        usage: usageOf(reply, request, content),
        response: { id: `scripted-${request.call}`, modelId },
        warnings: [],
      };
    },
    async doStream(callOptions) {
      const { reply, request } = take(callOptions, true);
      const content = contentOf(reply, request);
      const parts: LanguageModelV4StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', id: `scripted-${request.call}`, modelId },
      ];
      content.forEach((part, index) => {
        if (part.type === 'text' || part.type === 'reasoning') {
          const id = `${part.type}-${index}`;
          parts.push({ type: `${part.type}-start`, id });
          for (let at = 0; at < part.text.length; at += chunkSize) {
            parts.push({ type: `${part.type}-delta`, id, delta: part.text.slice(at, at + chunkSize) });
          }
          parts.push({ type: `${part.type}-end`, id });
        } else if (part.type === 'tool-call') {
          parts.push({ type: 'tool-input-start', id: part.toolCallId, toolName: part.toolName });
          parts.push({ type: 'tool-input-delta', id: part.toolCallId, delta: part.input });
          parts.push({ type: 'tool-input-end', id: part.toolCallId });
          parts.push(part);
        }
      });
      parts.push({
        type: 'finish',
        finishReason: finishOf(reply, content),
        usage: usageOf(reply, request, content),
      });
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      });
      return { stream };
    },
  };
  return model;
}

/** The id of a scripted tool call that names no id: `call_<turn>_<n>`, turn and n from 1. */
const SCRIPTED_CALL_ID = /^call_(\d+)_(\d+)$/;

/**
 * The index of the turn after the latest reply of this script in the prompt (counting the assistant
 * messages after it), or 0 when the prompt holds none. A reply is recognised by a tool call: one
 * with an id the script names, or `call_<turn>_<n>` matching that turn's n-th call by name and
 * arguments. Function turns are not recognised (their replies are not known in advance), nor are
 * another model's replies in a handed-off or forked conversation.
 */
function turnFollowing(prompt: LanguageModelV4Prompt, turns: readonly ScriptedTurn[]): number {
  let later = 0;
  for (let index = prompt.length - 1; index >= 0; index--) {
    const message = prompt[index]!;
    if (message.role !== 'assistant') continue;
    for (const part of message.content) {
      if (part.type !== 'tool-call') continue;
      const turn = scriptedTurnOf(part, turns);
      if (turn !== undefined) return turn + 1 + later;
    }
    later++;
  }
  return 0;
}

function scriptedTurnOf(
  part: { toolCallId: string; toolName: string; input: unknown },
  turns: readonly ScriptedTurn[],
): number | undefined {
  const named = turns.findIndex(
    (turn) => typeof turn === 'object' && turn.toolCalls?.some((call) => call.id === part.toolCallId),
  );
  if (named >= 0) return named;
  const match = SCRIPTED_CALL_ID.exec(part.toolCallId);
  if (!match) return undefined;
  const index = Number(match[1]) - 1;
  const turn = turns[index];
  if (typeof turn !== 'object') return undefined;
  const call = turn.toolCalls?.[Number(match[2]) - 1];
  if (!call || call.id !== undefined) return undefined;
  const sameTool = call.name === part.toolName || call.name.replace(/[^A-Za-z0-9_-]/g, '_') === part.toolName;
  return sameTool && sameArguments(call.args, part.input) ? index : undefined;
}

function sameArguments(scripted: unknown, sent: unknown): boolean {
  const parse = (value: unknown): unknown => {
    if (typeof value !== 'string') return value ?? {};
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  };
  return JSON.stringify(parse(scripted)) === JSON.stringify(parse(sent));
}

function describe(
  options: LanguageModelV4CallOptions,
  call: number,
  turn: number,
  streamed: boolean,
): ScriptedRequest {
  const prompt = options.prompt;
  let lastUserText = '';
  for (const message of prompt) {
    if (message.role === 'user') {
      lastUserText = message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    }
  }
  const toolResults: ScriptedRequest['toolResults'] = [];
  for (let index = prompt.length - 1; index >= 0; index--) {
    const message = prompt[index]!;
    if (message.role !== 'tool') break;
    for (const part of [...message.content].reverse()) {
      if (part.type !== 'tool-result') continue;
      const output = part.output;
      const value =
        'value' in output ? output.value : output.type === 'execution-denied' ? output.reason : undefined;
      toolResults.unshift({
        toolName: part.toolName,
        callId: part.toolCallId,
        output: value,
        isError:
          output.type === 'error-text' || output.type === 'error-json' || output.type === 'execution-denied',
      });
    }
  }
  return {
    call,
    turn,
    prompt,
    tools: (options.tools ?? []).map((tool) => tool.name),
    lastUserText,
    toolResults,
    streamed,
    options,
  };
}

function contentOf(reply: ScriptedReply, request: ScriptedRequest): LanguageModelV4Content[] {
  const content: LanguageModelV4Content[] = [];
  if (reply.reasoning) content.push({ type: 'reasoning', text: reply.reasoning });
  const text = reply.output !== undefined ? JSON.stringify(reply.output) : reply.text;
  if (text) content.push({ type: 'text', text });
  (reply.toolCalls ?? []).forEach((call, index) => {
    const offered = request.tools.includes(call.name) ? call.name : call.name.replace(/[^A-Za-z0-9_-]/g, '_');
    content.push({
      type: 'tool-call',
      toolCallId: call.id ?? `call_${request.turn}_${index + 1}`,
      toolName: request.tools.includes(offered) ? offered : call.name,
      input: typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {}),
    });
  });
  return content;
}

function finishOf(
  reply: ScriptedReply,
  content: readonly LanguageModelV4Content[],
): LanguageModelV4FinishReason {
  const unified =
    reply.finishReason ?? (content.some((part) => part.type === 'tool-call') ? 'tool-calls' : 'stop');
  return { unified, raw: unified };
}

function usageOf(
  reply: ScriptedReply,
  request: ScriptedRequest,
  content: readonly LanguageModelV4Content[],
): LanguageModelV4Usage {
  const input = reply.usage?.inputTokens ?? Math.ceil(JSON.stringify(request.prompt).length / 4);
  const output =
    reply.usage?.outputTokens ??
    Math.ceil(
      content.reduce(
        (sum, part) =>
          sum + ('text' in part ? part.text.length : 'input' in part ? String(part.input).length : 0),
        0,
      ) / 4,
    );
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}

function toProviderError(error: NonNullable<ScriptedReply['error']>): Error {
  if (error instanceof Error) return error;
  return new APICallError({
    message: error.message ?? `HTTP ${error.status}`,
    url: 'scripted://model',
    requestBodyValues: {},
    statusCode: error.status,
    responseHeaders:
      error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) },
    isRetryable: error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500,
  });
}
