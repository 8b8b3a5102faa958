import { BatonError, RateLimitedError, ServiceUnavailableError, StepTimeoutError } from '../errors.ts';

/**
 * What a failed call to an outside service means for retrying it:
 * - `rate-limited`: the provider refused for going too fast (HTTP 429). Retry after `retryAfterMs`
 *   (its Retry-After), and slow the whole pool down;
 * - `unavailable`: it may pass (HTTP 5xx, 408, a timeout, a refused or broken connection). Retry
 *   with backoff; it counts against the pool's circuit breaker;
 * - `rejected`: the request itself is wrong (other HTTP 4xx: bad request, unauthorized, not found…).
 *   Retrying sends the same request and fails the same way: do not retry;
 * - `unknown`: not an HTTP or network error; leave it to the caller's retry policy.
 */
export type ErrorClassification =
  | { kind: 'rate-limited'; status?: number; retryAfterMs?: number }
  | { kind: 'unavailable'; status?: number; retryAfterMs?: number }
  | { kind: 'rejected'; status: number }
  | { kind: 'unknown' };

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Classifies an error thrown by a call to a provider or an HTTP API. It reads the shapes the common
 * clients throw: the AI SDK's APICallError (`statusCode`, `responseHeaders`) and its RetryError
 * (`lastError`), OpenAI/Anthropic SDK errors (`status`, `headers`), a fetch `Response` (`response`),
 * Node's network errors (`code`, also under `cause`), and Baton's own RateLimitedError and
 * ServiceUnavailableError.
 *
 * @example
 * const verdict = classifyError(error);
 * if (verdict.kind === 'rejected') throw new NonRetryableError(error.message, { cause: error });
 */
export function classifyError(error: unknown, now: number = Date.now()): ErrorClassification {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const verdict = classifyOne(current as Record<string, unknown>, now);
    if (verdict) return verdict;
    const next = current as { lastError?: unknown; cause?: unknown };
    current = next.lastError ?? next.cause;
  }
  return { kind: 'unknown' };
}

function classifyOne(error: Record<string, unknown>, now: number): ErrorClassification | undefined {
  if (BatonError.isInstance(error)) {
    if (RateLimitedError.isInstance(error)) return withRetry({ kind: 'rate-limited' }, error.retryAfterMs);
    if (ServiceUnavailableError.isInstance(error) || StepTimeoutError.isInstance(error)) {
      return withRetry({ kind: 'unavailable' }, error.retryAfterMs);
    }
    if (!isErrorWithCause(error)) return { kind: 'unknown' };
  }
  const status = statusOf(error);
  if (status !== undefined) {
    const retryAfterMs = retryAfterOf(error, now);
    if (status === 429) return withRetry({ kind: 'rate-limited', status }, retryAfterMs);
    if (status >= 500 || status === 408) return withRetry({ kind: 'unavailable', status }, retryAfterMs);
    if (status >= 400) return { kind: 'rejected', status };
  }
  const code = error.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return { kind: 'unavailable' };
  const name = error.name;
  if (name === 'TimeoutError' || name === 'ConnectTimeoutError') return { kind: 'unavailable' };
  return undefined;
}

function isErrorWithCause(error: Record<string, unknown>): boolean {
  return error.cause !== undefined;
}

function withRetry<T extends ErrorClassification>(verdict: T, retryAfterMs: number | undefined): T {
  return retryAfterMs === undefined ? verdict : { ...verdict, retryAfterMs };
}

function statusOf(error: Record<string, unknown>): number | undefined {
  for (const value of [
    error.statusCode,
    error.status,
    (error.response as { status?: unknown } | undefined)?.status,
  ]) {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599) return value;
  }
  return undefined;
}

function retryAfterOf(error: Record<string, unknown>, now: number): number | undefined {
  const sources = [
    error.responseHeaders,
    error.headers,
    (error.response as { headers?: unknown } | undefined)?.headers,
  ];
  for (const headers of sources) {
    const value = retryAfterFromHeaders(headers, now);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * How long a response's headers ask the caller to wait, in ms: `retry-after-ms`, else `Retry-After`
 * (see {@link parseRetryAfter}). Rounded up, never down: a retry never comes sooner than asked.
 * Takes a `Headers` object or a plain record (any case of names); undefined when neither header is usable.
 */
export function retryAfterFromHeaders(headers: unknown, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const after = header(headers, 'retry-after');
  return after === undefined ? undefined : parseRetryAfter(after, now);
}

function header(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const value: unknown = get.call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}

/**
 * Reads an HTTP Retry-After value: delay-seconds (`120`, `1.5`) or an HTTP date, as ms from `now`
 * (0 for a date in the past). Undefined when it is neither. Seconds are rounded up to the next ms:
 * the value is a floor the server set, so rounding down would retry too soon.
 */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
