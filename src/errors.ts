/**
 * Every error Baton throws is a {@link BatonError} with a stable string `code`.
 *
 * The `disposition` tells callers what the engine does next:
 * - `terminal`: retrying the same thing will fail the same way;
 * - `retryable`: try again, after `retryAfterMs` when set;
 * - `suspend`: the run parks and resumes by replay when woken.
 */
export type ErrorDisposition = 'terminal' | 'retryable' | 'suspend';

const marker = Symbol.for('baton.error');

export class BatonError extends Error {
  readonly [marker] = true;
  readonly code: string;
  readonly disposition: ErrorDisposition;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; disposition?: ErrorDisposition; retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.disposition = options.disposition ?? 'terminal';
    this.retryAfterMs = options.retryAfterMs;
  }

  /** True for a BatonError from any copy of this package (instanceof fails across duplicates). */
  static isInstance(value: unknown): value is BatonError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** The workflow code asked for something other than what the run's history holds at this point. */
export class NonDeterminismError extends BatonError {
  readonly runId: string;
  readonly seq: number | undefined;
  readonly expected: string;
  readonly actual: string;
  constructor(args: { runId: string; seq: number | undefined; expected: string; actual: string }) {
    const where = args.seq === undefined ? 'after the end of its history' : `at seq ${args.seq}`;
    super(
      'NON_DETERMINISM',
      `Run ${args.runId} no longer matches its history ${where}: the history holds ${args.expected}, ` +
        `but the workflow code now asks for ${args.actual}. Guard the change with ctx.patched(id) ` +
        `so runs started on the old code keep replaying, or fork the run.`,
    );
    this.runId = args.runId;
    this.seq = args.seq;
    this.expected = args.expected;
    this.actual = args.actual;
  }
}

export class UnknownWorkflowError extends BatonError {
  constructor(args: { name: string; known: readonly string[] }) {
    super(
      'UNKNOWN_WORKFLOW',
      `No workflow named '${args.name}' is registered. Registered: ${args.known.length ? args.known.join(', ') : '(none)'}.`,
    );
  }
}

export class RunNotFoundError extends BatonError {
  constructor(args: { runId: string; suggestions?: readonly string[] }) {
    const near = args.suggestions?.length ? ` Did you mean ${args.suggestions.join(', ')}?` : '';
    super('RUN_NOT_FOUND', `No run with id '${args.runId}'.${near}`);
  }
}

export class RunFinishedError extends BatonError {
  constructor(args: { runId: string; status: string; action: string }) {
    super('RUN_FINISHED', `Cannot ${args.action} run ${args.runId}: it has already ${args.status}.`);
  }
}

/** A value that cannot be stored faithfully as JSON; `path` names where (e.g. `$.items[2].at`). */
export class NotSerializableError extends BatonError {
  readonly path: string;
  constructor(args: { what: string; path: string; reason: string }) {
    super('NOT_SERIALIZABLE', `${args.what} is not JSON-serialisable at ${args.path}: ${args.reason}.`);
    this.path = args.path;
  }
}

export class PayloadTooLargeError extends BatonError {
  constructor(args: { what: string; bytes: number; limit: number }) {
    super(
      'PAYLOAD_TOO_LARGE',
      `${args.what} is ${args.bytes} bytes, over the limit of ${args.limit} bytes (option maxPayloadBytes). ` +
        `Store large data outside the journal and journal a reference to it.`,
    );
  }
}

export class StoreVersionError extends BatonError {
  constructor(args: { location: string; found: number; supported: number }) {
    super(
      'STORE_VERSION',
      `The store at ${args.location} has schema version ${args.found}, newer than this Baton supports ` +
        `(${args.supported}). Upgrade Baton; the store was left untouched.`,
    );
  }
}

export class StoreCorruptError extends BatonError {
  constructor(args: { location: string; reason: string; cause?: unknown }) {
    super(
      'STORE_CORRUPT',
      `The store at ${args.location} cannot be opened: ${args.reason}. It was left untouched.`,
      { cause: args.cause },
    );
  }
}

/** This worker no longer holds the run's lease; another worker has taken it over. */
export class LeaseLostError extends BatonError {
  constructor(args: { runId: string; owner: string }) {
    super('LEASE_LOST', `Worker ${args.owner} no longer holds the lease on run ${args.runId}.`, {
      disposition: 'retryable',
    });
  }
}

/** A step that failed for good (retries exhausted or a non-retryable error). Catchable in workflow code. */
export class StepFailedError extends BatonError {
  readonly step: string;
  readonly attempts: number;
  readonly errorName: string;
  constructor(args: { step: string; attempts: number; errorName: string; message: string; code?: string }) {
    super(
      args.code ?? 'STEP_FAILED',
      `Step '${args.step}' failed after ${args.attempts} attempt(s): ${args.errorName}: ${args.message}`,
    );
    this.step = args.step;
    this.attempts = args.attempts;
    this.errorName = args.errorName;
  }
}

/** Throw from a step to fail it without retrying. */
export class NonRetryableError extends BatonError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('NON_RETRYABLE', message, { cause: options.cause });
  }
}

export class StepTimeoutError extends BatonError {
  constructor(args: { step: string; timeoutMs: number }) {
    super('STEP_TIMEOUT', `Step '${args.step}' did not finish within ${args.timeoutMs} ms.`, {
      disposition: 'retryable',
    });
  }
}

export class WaitTimeoutError extends BatonError {
  constructor(args: { signal: string; timeoutMs: number }) {
    super('WAIT_TIMEOUT', `No signal '${args.signal}' arrived within ${args.timeoutMs} ms.`);
  }
}

export class RunTimeoutError extends BatonError {
  constructor(args: { runId: string; timeoutMs: number }) {
    super('RUN_TIMEOUT', `Run ${args.runId} exceeded its timeout of ${args.timeoutMs} ms.`);
  }
}

export class RunCancelledError extends BatonError {
  constructor(args: { runId: string; reason?: string }) {
    super('RUN_CANCELLED', `Run ${args.runId} was cancelled${args.reason ? `: ${args.reason}` : ''}.`);
  }
}

/** The run ended in failure; `run.result()` rejects with this, carrying the journaled error. */
export class RunFailedError extends BatonError {
  readonly runId: string;
  readonly error: SerializedError;
  constructor(args: { runId: string; error: SerializedError }) {
    super(args.error.code ?? 'RUN_FAILED', `Run ${args.runId} failed: ${args.error.name}: ${args.error.message}`);
    this.runId = args.runId;
    this.error = args.error;
  }
}

export class ConfigError extends BatonError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFIG', message, { cause: options.cause });
  }
}

export class InvalidArgumentError extends BatonError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** An error as the journal keeps it. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  data?: unknown;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    if (error.stack) out.stack = error.stack.split('\n').slice(0, 8).join('\n');
    return out;
  }
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) ?? String(error) };
}
