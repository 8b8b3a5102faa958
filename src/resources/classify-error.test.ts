import { APICallError } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { NonRetryableError, RateLimitedError, ServiceUnavailableError, StepTimeoutError } from '../errors.ts';
import { classifyModelError } from '../agents/model-call.ts';
import { classifyError, parseRetryAfter, retryAfterFromHeaders } from './classify-error.ts';

const NOW = Date.UTC(2026, 0, 1, 9, 0, 0);

function apiCallError(statusCode: number, responseHeaders: Record<string, string> = {}): APICallError {
  return new APICallError({
    message: `HTTP ${statusCode}`,
    url: 'https://api.example/v1',
    requestBodyValues: {},
    statusCode,
    responseHeaders,
  });
}

describe('classifyError', () => {
  it('reads the AI SDK APICallError: 429 with its Retry-After, 5xx, other 4xx', () => {
    expect(classifyError(apiCallError(429, { 'retry-after': '7' }), NOW)).toEqual({
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 7000,
    });
    expect(classifyError(apiCallError(503), NOW)).toEqual({ kind: 'unavailable', status: 503 });
    expect(classifyError(apiCallError(408), NOW)).toEqual({ kind: 'unavailable', status: 408 });
    expect(classifyError(apiCallError(401), NOW)).toEqual({ kind: 'rejected', status: 401 });
    expect(classifyError(apiCallError(422), NOW)).toEqual({ kind: 'rejected', status: 422 });
  });

  it('prefers retry-after-ms, and reads Retry-After as an HTTP date', () => {
    const headers = { 'Retry-After-Ms': '1500', 'Retry-After': '30' };
    expect(classifyError(Object.assign(new Error('slow down'), { status: 429, headers }), NOW)).toMatchObject(
      { retryAfterMs: 1500 },
    );
    const date = new Date(NOW + 90_000).toUTCString();
    expect(
      classifyError(
        Object.assign(new Error('x'), { status: 429, headers: new Headers({ 'retry-after': date }) }),
        NOW,
      ),
    ).toMatchObject({
      retryAfterMs: 90_000,
    });
  });

  it('reads a fetch Response, the error the AI SDK retried (lastError), and causes', () => {
    const response = new Response('{}', { status: 502, headers: { 'retry-after': '2' } });
    expect(classifyError(Object.assign(new Error('bad gateway'), { response }), NOW)).toEqual({
      kind: 'unavailable',
      status: 502,
      retryAfterMs: 2000,
    });
    const retried = Object.assign(new Error('Failed after 3 attempts'), { lastError: apiCallError(429) });
    expect(classifyError(retried, NOW)).toMatchObject({ kind: 'rate-limited', status: 429 });
    const network = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(classifyError(network, NOW)).toEqual({ kind: 'unavailable' });
    expect(classifyError(new DOMException('The operation timed out.', 'TimeoutError'), NOW)).toEqual({
      kind: 'unavailable',
    });
  });

  it("reads Baton's own errors, and leaves everything else to the caller's retry policy", () => {
    expect(classifyError(new RateLimitedError({ pool: 'a', retryAfterMs: 300 }), NOW)).toEqual({
      kind: 'rate-limited',
      retryAfterMs: 300,
    });
    expect(classifyError(new ServiceUnavailableError({ pool: 'a' }), NOW)).toEqual({ kind: 'unavailable' });
    expect(classifyError(new StepTimeoutError({ step: 's', timeoutMs: 5 }), NOW)).toEqual({
      kind: 'unavailable',
    });
    expect(classifyError(new NonRetryableError('no'), NOW)).toEqual({ kind: 'unknown' });
    expect(classifyError(new Error('a bug'), NOW)).toEqual({ kind: 'unknown' });
    expect(classifyError('a string', NOW)).toEqual({ kind: 'unknown' });
    expect(classifyError(Object.assign(new Error('odd'), { status: 302 }), NOW)).toEqual({ kind: 'unknown' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, a past date as 0, and refuses anything else', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 1.5 ', NOW)).toBe(1500);
    expect(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW)).toBe(5000);
    expect(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });
});

describe('one reading of Retry-After for pools and model calls', () => {
  it('rounds a fraction of a millisecond up, never down: a retry never comes sooner than asked', () => {
    expect(parseRetryAfter('0.0004', NOW)).toBe(1);
    expect(parseRetryAfter('1.0005', NOW)).toBe(1001);
    expect(retryAfterFromHeaders({ 'Retry-After-Ms': '2.2' }, NOW)).toBe(3);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '1.0005' }), NOW)).toBe(1001);
    expect(retryAfterFromHeaders({ 'retry-after-ms': 'soon', 'retry-after': '2' }, NOW)).toBe(2000);
    expect(retryAfterFromHeaders({}, NOW)).toBeUndefined();
    expect(retryAfterFromHeaders(undefined, NOW)).toBeUndefined();
  });

  it('a model provider’s error carries the same delay a pool would wait', () => {
    const error = apiCallError(429, { 'retry-after': '1.0005' });
    expect(classifyModelError(error, 'openai:gpt-4.1-mini').retryAfterMs).toBe(1001);
    expect(classifyError(error, NOW)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 1001 });
  });
});
