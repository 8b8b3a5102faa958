import { BatonError } from '../errors.ts';

/**
 * The codes the HTTP API answers with, besides the `code` of any BatonError it passes on. Stable:
 * clients may switch on them.
 */
export const SERVER_ERROR_CODES = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MALFORMED_JSON: 400,
  INVALID_REQUEST: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_STREAMS: 429,
  SHUTTING_DOWN: 503,
  APPROVAL_NOT_FOUND: 404,
  APPROVAL_ALREADY_DECIDED: 409,
  INTERNAL: 500,
} as const;

export type ServerErrorCode = keyof typeof SERVER_ERROR_CODES;

/** The HTTP status of a BatonError's code; 500 for codes the API does not expect. */
const BATON_STATUS: Readonly<Record<string, number>> = {
  RUN_NOT_FOUND: 404,
  UNKNOWN_WORKFLOW: 404,
  RUN_FINISHED: 409,
  RUN_NOT_RESUMABLE: 409,
  SEQ_CONFLICT: 409,
  INVALID_ARGUMENT: 400,
  NOT_SERIALIZABLE: 400,
  NESTING_TOO_DEEP: 400,
  UNKNOWN_PRINCIPAL: 400,
  UNKNOWN_ACTION: 400,
  UNKNOWN_POOL: 400,
  PAYLOAD_TOO_LARGE: 413,
  OVERLOADED: 429,
  STORE_UNAVAILABLE: 503,
  ACCESS_DENIED: 403,
  // The guard's approval desk (src/guard).
  APPROVAL_NOT_FOUND: 404,
  APPROVAL_ALREADY_DECIDED: 409,
  APPROVAL_CLOSED: 409,
  APPROVAL_EXPIRED: 409,
  APPROVAL_FORBIDDEN: 403,
  INVALID_APPROVAL_ARGUMENTS: 400,
  GUARDRAIL_BLOCKED: 422,
  SIGNAL_KEY_CONFLICT: 409,
  UNKNOWN_QUERY: 404,
  // Live run streams (src/engine/stream-errors.ts).
  STREAM_CURSOR_INVALID: 400,
  TOO_MANY_STREAM_READERS: 429,
  FORK_POINT: 400,
};

/** An error answered as `{ error: { code, message } }` with `status`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ServerErrorCode,
    message: string,
    options: { retryAfterMs?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = SERVER_ERROR_CODES[code];
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** What an error becomes on the wire: status, body, and the Retry-After header when it says when to retry. */
export function describeHttpError(error: unknown): {
  status: number;
  body: ErrorBody;
  retryAfterSeconds?: number;
} {
  if (error instanceof HttpError) {
    return withRetry(
      error.status,
      { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
      error.retryAfterMs,
    );
  }
  if (BatonError.isInstance(error)) {
    const status = BATON_STATUS[error.code];
    if (status !== undefined)
      return withRetry(status, { code: error.code, message: error.message }, error.retryAfterMs);
    return withRetry(
      500,
      { code: error.code, message: error.message },
      error.disposition === 'retryable' ? error.retryAfterMs : undefined,
    );
  }
  return {
    status: 500,
    body: {
      error: {
        code: 'INTERNAL',
        message: 'The server failed to answer this request; the failure was logged.',
      },
    },
  };
}

function withRetry(
  status: number,
  error: ErrorBody['error'],
  retryAfterMs: number | undefined,
): { status: number; body: ErrorBody; retryAfterSeconds?: number } {
  const retryable = status === 429 || status === 503;
  if (!retryable) return { status, body: { error } };
  return {
    status,
    body: { error },
    retryAfterSeconds: Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000)),
  };
}
