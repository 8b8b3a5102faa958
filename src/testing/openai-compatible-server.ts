import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** What the server answers to one request. */
export type ServerReply =
  | string
  | {
      text?: string;
      toolCalls?: readonly { name: string; args: unknown; id?: string }[];
      usage?: { promptTokens?: number; completionTokens?: number };
      finishReason?: string;
      /** Wait this long before answering (to hold a request in flight). */
      delayMs?: number;
      /** When streaming: send the text in chunks of this many characters (default: in 3 chunks). */
      chunkChars?: number;
      /** When streaming: wait this long before each text chunk, as a model paces its tokens. */
      chunkDelayMs?: number;
    }
  | {
      status: number;
      message?: string;
      body?: string;
      retryAfter?: number | string;
      headers?: Record<string, string>;
    }
  /** A 200 whose body (or, when streaming, whose first chunk) is not valid JSON; a string is the body sent. */
  | { malformed: true | string };

/** A list of replies used in order, or a function of each request. */
export type ServerScript =
  readonly ServerReply[] | ((request: ReceivedRequest) => ServerReply | Promise<ServerReply>);

/** A request as the server received it. */
export interface ReceivedRequest {
  /** 1 for the first request. */
  index: number;
  /** Position among everything the server saw (requests received, responses finished), from 1. */
  sequence: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (undefined if it was not JSON). */
  body: any;
  stream: boolean;
  model: string | undefined;
  messages: any[];
}

/** What the server sent back. */
export interface SentResponse {
  index: number;
  /** Position among everything the server saw, as on ReceivedRequest: the response was finished then. */
  sequence: number;
  status: number;
  /** The completion id (`chatcmpl-<index>`) of a 200. */
  id?: string;
}

export interface OpenAICompatibleServer {
  /** The base URL to give the provider: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  readonly responses: readonly SentResponse[];
  close(): Promise<void>;
}

/**
 * A local HTTP server that speaks the OpenAI Chat Completions wire protocol (`POST
 * /v1/chat/completions`, JSON and SSE streaming, tool calls, usage), answering from a script. For
 * tests of the real provider path: rate limits (429 with Retry-After), server errors, malformed
 * bodies, and counting what was sent.
 *
 * @example
 * const server = await startOpenAICompatibleServer([{ status: 429, retryAfter: 1 }, 'Hello!']);
 * const model = `openai-compatible:${server.url}#test-model`;
 */
export async function startOpenAICompatibleServer(
  script: ServerScript,
  options: { host?: string; port?: number } = {},
): Promise<OpenAICompatibleServer> {
  const requests: ReceivedRequest[] = [];
  const responses: SentResponse[] = [];
  let scripted = 0;
  let sequence = 0;
  const sent: Sent = (response) => void responses.push({ ...response, sequence: ++sequence });

  const server = createServer((incoming, outgoing) => {
    void handle(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
      outgoing.end(
        JSON.stringify({
          error: { message: `test server: ${(error as Error).message}`, type: 'server_error' },
        }),
      );
    });
  });

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const body = await readBody(incoming);
    const path = (incoming.url ?? '/').split('?')[0]!;
    if (incoming.method !== 'POST' || !path.endsWith('/chat/completions')) {
      outgoing.writeHead(404, { 'content-type': 'application/json' });
      outgoing.end(
        JSON.stringify({
          error: { message: `No route ${incoming.method} ${path}`, type: 'invalid_request_error' },
        }),
      );
      return;
    }
    const request: ReceivedRequest = {
      index: requests.length + 1,
      sequence: ++sequence,
      path,
      headers: incoming.headers,
      body,
      stream: body?.stream === true,
      model: body?.model,
      messages: Array.isArray(body?.messages) ? body.messages : [],
    };
    requests.push(request);
    const reply = typeof script === 'function' ? await script(request) : script[scripted++];
    await answer(outgoing, request, reply, sent);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}/v1`,
    requests,
    responses,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Notes a response as sent (numbered in the server's sequence). */
type Sent = (response: Omit<SentResponse, 'sequence'>) => void;
type CompletionReply = Exclude<ServerReply, string | { status: number } | { malformed: true | string }>;

/** A completion as the wire shows it, in both its JSON and its streamed form. */
interface Completion {
  id: string;
  model: string;
  created: number;
  toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  finishReason: string;
  text: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** The request's body as JSON, or undefined when it is empty or not JSON. */
async function readBody(incoming: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  try {
    return raw ? JSON.parse(raw) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends the scripted reply: an HTTP error, a malformed body, or a completion (JSON or streamed). */
async function answer(
  outgoing: ServerResponse,
  request: ReceivedRequest,
  scriptedReply: ServerReply | undefined,
  sent: Sent,
): Promise<void> {
  if (scriptedReply === undefined) {
    send(outgoing, request, sent, 400, {
      error: {
        message: `The test server's script has no reply for request ${request.index}.`,
        type: 'invalid_request_error',
      },
    });
    return;
  }
  const reply = typeof scriptedReply === 'string' ? { text: scriptedReply } : scriptedReply;
  if ('status' in reply) {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...reply.headers };
    if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
    outgoing.writeHead(reply.status, headers);
    outgoing.end(
      reply.body ??
        JSON.stringify({
          error: {
            message: reply.message ?? `HTTP ${reply.status}`,
            type: 'server_error',
            code: reply.status,
          },
        }),
    );
    sent({ index: request.index, status: reply.status });
    return;
  }
  const id = `chatcmpl-${request.index}`;
  if ('malformed' in reply) {
    sendMalformed(outgoing, request, reply.malformed, id);
    sent({ index: request.index, status: 200, id });
    return;
  }
  if (reply.delayMs) await delay(reply.delayMs);
  const completion = completionOf(request, reply, id);
  if (!request.stream) {
    send(outgoing, request, sent, 200, completionJson(completion), id);
    return;
  }
  await streamCompletion(outgoing, request, reply, completion);
  sent({ index: request.index, status: 200, id });
}

function send(
  outgoing: ServerResponse,
  request: ReceivedRequest,
  sent: Sent,
  status: number,
  payload: unknown,
  id?: string,
): void {
  outgoing.writeHead(status, { 'content-type': 'application/json' });
  outgoing.end(JSON.stringify(payload));
  sent({ index: request.index, status, ...(id === undefined ? {} : { id }) });
}

/** A body that is not valid JSON (the given text, or a completion cut off), as JSON or as one SSE event. */
function sendMalformed(
  outgoing: ServerResponse,
  request: ReceivedRequest,
  malformed: true | string,
  id: string,
): void {
  const garbage = typeof malformed === 'string' ? malformed : '{"id": "' + id + '", "choices": [ {"mess';
  if (request.stream) {
    outgoing.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    outgoing.write(`data: ${garbage}\n\n`);
    outgoing.end('data: [DONE]\n\n');
  } else {
    outgoing.writeHead(200, { 'content-type': 'application/json' });
    outgoing.end(garbage);
  }
}

/** The completion a reply describes; usage not given is estimated at four characters a token. */
function completionOf(request: ReceivedRequest, reply: CompletionReply, id: string): Completion {
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `call_${request.index}_${index + 1}`,
    type: 'function' as const,
    function: {
      name: call.name,
      arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {}),
    },
  }));
  const text = reply.text ?? (toolCalls.length > 0 ? null : '');
  const promptTokens = reply.usage?.promptTokens ?? Math.ceil(JSON.stringify(request.messages).length / 4);
  const completionTokens =
    reply.usage?.completionTokens ?? Math.ceil(((text ?? '').length + JSON.stringify(toolCalls).length) / 4);
  return {
    id,
    model: request.model ?? 'test-model',
    created: Math.floor(Date.now() / 1000),
    toolCalls,
    finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    text,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

function completionJson({ id, created, model, text, toolCalls, finishReason, usage }: Completion): unknown {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason,
      },
    ],
    usage,
  };
}

/** The completion as server-sent chunks: the role, the text in pieces, each tool call, the finish, the usage. */
async function streamCompletion(
  outgoing: ServerResponse,
  request: ReceivedRequest,
  reply: CompletionReply,
  { id, created, model, text, toolCalls, finishReason, usage }: Completion,
): Promise<void> {
  outgoing.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): void => {
    outgoing.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
    );
  };
  chunk({ role: 'assistant', content: '' });
  if (text)
    for (const piece of pieces(text, reply.chunkChars ? Math.ceil(text.length / reply.chunkChars) : 3)) {
      if (reply.chunkDelayMs) await delay(reply.chunkDelayMs);
      chunk({ content: piece });
    }
  toolCalls.forEach((call, index) => {
    chunk({
      tool_calls: [
        { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
      ],
    });
    for (const piece of pieces(call.function.arguments, 2))
      chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
  });
  chunk({}, finishReason);
  if (request.body?.stream_options?.include_usage) {
    outgoing.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
    );
  }
  outgoing.end('data: [DONE]\n\n');
}

function pieces(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let at = 0; at < text.length; at += size) out.push(text.slice(at, at + size));
  return out;
}
