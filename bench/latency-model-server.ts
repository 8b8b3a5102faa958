import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server that speaks the OpenAI Chat Completions wire protocol (`POST
 * /v1/chat/completions`, non-streaming) and answers every request after a fixed latency: a model
 * whose cost is pure waiting, so a benchmark sees what the runtime adds around it. It is bounded:
 * it answers at most `maxRequests` (then 503) and closes itself after `lifetimeMs` even if the
 * benchmark that started it dies half-way.
 */
export class LatencyModelServer {
  readonly url: string;
  readonly latencyMs: number;
  readonly #counted: { answered: number; peakInFlight: number };
  readonly #server: Server;
  readonly #lifetime: NodeJS.Timeout;

  private constructor(
    server: Server,
    latencyMs: number,
    lifetimeMs: number,
    counted: { answered: number; peakInFlight: number },
  ) {
    this.#server = server;
    this.#counted = counted;
    this.latencyMs = latencyMs;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    this.#lifetime = setTimeout(() => void this.close(), lifetimeMs).unref();
  }

  /** Requests answered so far. */
  get answered(): number {
    return this.#counted.answered;
  }

  /** Most requests being waited on at once. */
  get peakInFlight(): number {
    return this.#counted.peakInFlight;
  }

  static async start(options: {
    latencyMs: number;
    maxRequests: number;
    lifetimeMs: number;
  }): Promise<LatencyModelServer> {
    let inFlight = 0;
    const counted = { answered: 0, peakInFlight: 0 };
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
          response.writeHead(404).end();
          return;
        }
        if (counted.answered + inFlight >= options.maxRequests) {
          response.writeHead(503, { 'content-type': 'application/json' });
          response.end(
            '{"error":{"message":"bench model server: request budget spent","type":"server_error"}}',
          );
          return;
        }
        inFlight++;
        counted.peakInFlight = Math.max(counted.peakInFlight, inFlight);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { model?: string };
        setTimeout(() => {
          inFlight--;
          counted.answered++;
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(completion(body.model ?? 'bench-model', counted.answered));
        }, options.latencyMs);
      });
    });
    // Keep-alive sockets let many worker processes reuse connections across calls.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new LatencyModelServer(server, options.latencyMs, options.lifetimeMs, counted);
  }

  async close(): Promise<void> {
    clearTimeout(this.#lifetime);
    if (!this.#server.listening) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function completion(model: string, index: number): string {
  return JSON.stringify({
    id: `chatcmpl-${index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: `Noted (answer ${index}).` },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 42, completion_tokens: 6, total_tokens: 48 },
  });
}

/**
 * The connections every model call of this process reuses. Node's global `fetch` keeps connections
 * alive too, but builds WHATWG Request, Headers and stream objects around each call: measured on the
 * reference machine, 540 µs of CPU per call against 207 µs through `node:http` with a keep-alive
 * agent — more than Baton's own work per step (docs/guide/capacity.md).
 */
const keepAlive = new Agent({ keepAlive: true });

/**
 * One model call as an agent's step makes it: a Chat Completions request with a short conversation,
 * answered by the server's text. Rejects on any non-200, so the step fails (and retries) as it would.
 */
export function callModel(url: string, prompt: string, signal?: AbortSignal): Promise<string> {
  const payload = JSON.stringify({
    model: 'bench-model',
    messages: [
      { role: 'system', content: 'You are a careful assistant.' },
      { role: 'user', content: prompt },
    ],
  });
  return new Promise((resolve, reject) => {
    const call = request(
      `${url}/chat/completions`,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        ...(signal ? { signal } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`model server answered ${response.statusCode}`));
            return;
          }
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              choices: { message: { content: string } }[];
            };
            resolve(body.choices[0]!.message.content);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    call.on('error', reject);
    call.end(payload);
  });
}
