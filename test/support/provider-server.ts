import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does with one request (after its rate check passed). */
export type ProviderReply = { status: number; body?: unknown; headers?: Record<string, string> };

export interface ProviderServerOptions {
  /**
   * The provider's own limit, checked on arrival: a request is refused with 429 (and Retry-After)
   * when `limit` requests are in flight or ended within the last `windowMs`.
   */
  rate?: { limit: number; windowMs: number; retryAfterSeconds?: number };
  /** Answers a request (default 200 `{ ok: true }`); may wait, to hold the request in flight. */
  reply?: (request: { path: string; index: number; body: string }) => ProviderReply | Promise<ProviderReply>;
}

/**
 * A local HTTP server standing in for a model provider or a tool API, on 127.0.0.1 and a free
 * port. It measures what a real provider would: requests in flight at once, requests within any
 * window, requests per second, and the 429s it had to send.
 */
export class ProviderServer {
  readonly url: string;
  readonly #server: Server;
  readonly #options: ProviderServerOptions;
  /** Requests received, 429s included. */
  received = 0;
  /** Requests answered 429 by the rate check. */
  rateLimited = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** In flight now, and the most at once, per request path. */
  readonly inFlightByPath = new Map<string, number>();
  readonly maxInFlightByPath = new Map<string, number>();
  /** The most requests counted in one window on arrival (the arriving one included), accepted ones only. */
  maxInWindow = 0;
  /** Accepted requests by arrival second. */
  readonly perSecond = new Map<number, number>();
  /** In-flight requests and ends of the accepted requests, for the window check. */
  readonly #ends: number[] = [];
  readonly arrivals: { path: string; at: number; status: number }[] = [];

  private constructor(server: Server, url: string, options: ProviderServerOptions) {
    this.#server = server;
    this.url = url;
    this.#options = options;
  }

  static async start(options: ProviderServerOptions = {}): Promise<ProviderServer> {
    const created: { instance?: ProviderServer } = {};
    const server = createServer((request, response) => void created.instance!.#handle(request, response));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    created.instance = new ProviderServer(server, `http://127.0.0.1:${port}`, options);
    return created.instance;
  }

  /** The most requests that arrived within any one second. */
  get maxPerSecond(): number {
    return Math.max(0, ...this.perSecond.values());
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const arrival = Date.now();
    const index = this.received++;
    const path = request.url ?? '/';
    const rate = this.#options.rate;
    if (rate) {
      const counted = this.inFlight + this.#ends.filter((end) => end > arrival - rate.windowMs).length;
      if (counted >= rate.limit) {
        this.rateLimited++;
        this.arrivals.push({ path, at: arrival, status: 429 });
        response.writeHead(429, {
          'content-type': 'application/json',
          'retry-after': String(rate.retryAfterSeconds ?? 1),
        });
        response.end(JSON.stringify({ error: 'rate limited' }));
        return;
      }
      this.maxInWindow = Math.max(this.maxInWindow, counted + 1);
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const onPath = (this.inFlightByPath.get(path) ?? 0) + 1;
    this.inFlightByPath.set(path, onPath);
    this.maxInFlightByPath.set(path, Math.max(this.maxInFlightByPath.get(path) ?? 0, onPath));
    const second = Math.floor(arrival / 1000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
    let reply: ProviderReply;
    try {
      reply = (await this.#options.reply?.({ path, index, body: Buffer.concat(chunks).toString() })) ?? {
        status: 200,
      };
    } catch (error) {
      reply = { status: 500, body: { error: String(error) } };
    }
    this.arrivals.push({ path, at: arrival, status: reply.status });
    // Counted out before the answer leaves, so the client can only see the end after it is counted.
    this.inFlight--;
    this.inFlightByPath.set(path, this.inFlightByPath.get(path)! - 1);
    this.#ends.push(Date.now());
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    response.end(JSON.stringify(reply.body ?? { ok: reply.status < 400 }));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Calls the server as a provider client would: throws an error carrying the status and headers on 4xx/5xx. */
export async function callProvider(url: string, body: unknown = {}, signal?: AbortSignal): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const payload: unknown = await response.json();
  if (!response.ok) {
    throw Object.assign(new Error(`HTTP ${response.status} from ${url}`), {
      status: response.status,
      headers: Object.fromEntries(response.headers),
    });
  }
  return payload;
}
