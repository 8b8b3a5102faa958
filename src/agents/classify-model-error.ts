import { BatonError } from '../errors.ts';
import { lazyModule } from '../lazy-module.ts';
import { classifyError } from '../resources/classify-error.ts';
import { ModelProviderError, ModelResponseError } from './errors.ts';

/** The AI SDK's error classes, loaded when a model call first fails (every model loaded them already). */
export const providerErrors = lazyModule<typeof import('@ai-sdk/provider')>('@ai-sdk/provider');

/**
 * What a provider's failure means for Baton: retryable (408, 409, 429, 5xx, connection, timeout;
 * with Retry-After), malformed (a response that does not parse), or terminal (4xx, a missing key).
 */
export function classifyModelError(error: unknown, model: string): BatonError {
  if (BatonError.isInstance(error)) return error;
  const { APICallError, InvalidResponseDataError, JSONParseError, LoadAPIKeyError, TypeValidationError } =
    providerErrors();
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status !== undefined && status >= 200 && status < 300) {
      return new ModelResponseError({ model, problem: describeCause(error), cause: error });
    }
    const retryable =
      error.isRetryable ||
      status === 408 ||
      status === 409 ||
      status === 429 ||
      (status !== undefined && status >= 500);
    const retryAfterMs = parseRetryAfter(error.responseHeaders);
    return new ModelProviderError({
      model,
      ...(status === undefined ? {} : { status }),
      message: error.message,
      retryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      cause: error,
    });
  }
  if (
    JSONParseError.isInstance(error) ||
    TypeValidationError.isInstance(error) ||
    InvalidResponseDataError.isInstance(error)
  ) {
    return new ModelResponseError({ model, problem: describeCause(error), cause: error });
  }
  if (LoadAPIKeyError.isInstance(error)) {
    return new ModelProviderError({ model, message: error.message, retryable: false, cause: error });
  }
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError') {
    return new ModelProviderError({ model, message: 'the call timed out', retryable: true, cause: error });
  }
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.cause?.code ??
    (error as { code?: unknown })?.code;
  const message = (error as Error | undefined)?.message ?? '';
  if (
    (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_)/.test(code)) ||
    (name === 'TypeError' && /terminated|fetch failed|socket/i.test(message))
  ) {
    return new ModelProviderError({
      model,
      message: `the connection failed (${message})`,
      retryable: true,
      cause: error,
    });
  }
  // Other clients' HTTP errors (a status and Retry-After on the error, its response or its cause).
  const verdict = classifyError(error);
  if (verdict.kind !== 'unknown') {
    return new ModelProviderError({
      model,
      ...(verdict.status === undefined ? {} : { status: verdict.status }),
      message: (error as Error)?.message ?? String(error),
      retryable: verdict.kind !== 'rejected',
      ...(verdict.kind !== 'rejected' && verdict.retryAfterMs !== undefined
        ? { retryAfterMs: verdict.retryAfterMs }
        : {}),
      cause: error,
    });
  }
  return new ModelProviderError({
    model,
    message: (error as Error)?.message ?? String(error),
    retryable: false,
    cause: error,
  });
}

function describeCause(error: Error): string {
  const { APICallError, JSONParseError, TypeValidationError } = providerErrors();
  const inner = (error as { cause?: unknown }).cause;
  if (APICallError.isInstance(error) && inner instanceof Error) return describeCause(inner);
  if (JSONParseError.isInstance(error)) {
    const reason = error.cause instanceof Error ? error.cause.message : 'it does not parse';
    return `the body is not valid JSON (${reason}); it began ${JSON.stringify(error.text.slice(0, 60))}`;
  }
  if (TypeValidationError.isInstance(error)) {
    return `the body does not have the expected shape (${error.message.split('\n')[0]})`;
  }
  return error.message;
}

/** Retry-After (seconds or an HTTP date) or retry-after-ms, in ms. */
export function parseRetryAfter(
  headers: Record<string, string> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const lower = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
  const ms = lower['retry-after-ms'];
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = lower['retry-after'];
  if (after === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(after.trim())) return Math.round(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
