import { definedFields } from './defined-fields.ts';

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

  /**
   * True for an error of this class (or a subclass), from any copy of this package: `instanceof`
   * fails across duplicate installs. Call it on the class to match: `BatonError.isInstance(error)`
   * for any Baton error, `CancelledError.isInstance(error)` for a cancellation, narrowed to that class.
   */
  static isInstance<T extends BatonError>(this: BatonErrorClass<T>, value: unknown): value is T {
    if (value instanceof this) return true;
    if (!hasMarker(value)) return false;
    return (this as unknown) === BatonError || inheritsFrom(value, this.name);
  }
}

/** A BatonError class, as `isInstance` is called on it. */
export type BatonErrorClass<T extends BatonError> = (abstract new (...args: never[]) => T) & {
  readonly name: string;
};

function hasMarker(value: unknown): value is BatonError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

/** Whether a class named `name` stands in the prototype chain of `value` (the classes of another copy count). */
function inheritsFrom(value: object, name: string): boolean {
  for (let proto: unknown = Object.getPrototypeOf(value); proto !== null && proto !== Error.prototype;) {
    const constructor = (proto as { constructor?: { name?: unknown } }).constructor;
    if (constructor?.name === name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
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

/**
 * No workflow of that name is registered with this Baton (or in `baton.config.ts`); the message lists
 * those that are.
 */
export class UnknownWorkflowError extends BatonError {
  constructor(args: { name: string; known: readonly string[] }) {
    super(
      'UNKNOWN_WORKFLOW',
      `No workflow named '${args.name}' is registered. Registered: ${args.known.length ? args.known.join(', ') : '(none)'}.`,
    );
  }
}

/** No run with that id (in the caller's tenant: a run of another tenant is not found either). */
export class RunNotFoundError extends BatonError {
  constructor(args: { runId: string; suggestions?: readonly string[] }) {
    const near = args.suggestions?.length ? ` Did you mean ${args.suggestions.join(', ')}?` : '';
    super('RUN_NOT_FOUND', `No run with id '${args.runId}'.${near}`);
  }
}

/**
 * The run has already finished (completed, failed or cancelled), so it cannot be signalled, cancelled,
 * paused or resumed.
 */
export class RunFinishedError extends BatonError {
  constructor(args: { runId: string; status: string; action: string }) {
    super('RUN_FINISHED', `Cannot ${args.action} run ${args.runId}: it has already ${args.status}.`);
  }
}

/** Only a failed, timed-out or cancelled run can be resumed in place (a paused one is unpaused). */
export class RunNotResumableError extends BatonError {
  constructor(args: { runId: string; status: string }) {
    super(
      'RUN_NOT_RESUMABLE',
      `Cannot resume run ${args.runId}: it is ${args.status}. Only a paused, failed, timed-out or cancelled run can be resumed` +
        (args.status === 'completed' ? '; fork it to run it again from a point (baton fork).' : '.'),
    );
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

/** A value nested deeper (objects and arrays) than the limit: refused before anything is journaled. */
export class NestingTooDeepError extends BatonError {
  readonly limit: number;
  constructor(args: { what: string; limit: number; option?: string }) {
    super(
      'NESTING_TOO_DEEP',
      `${args.what} nests objects and arrays more than ${args.limit} levels deep` +
        `${args.option ? ` (option ${args.option})` : ''}. Flatten it, or store it outside the journal and journal a reference.`,
    );
    this.limit = args.limit;
  }
}

/**
 * An input, step result or signal payload over `maxPayloadBytes` (default 1 MiB). Nothing was
 * journaled: keep large data outside the journal and journal a reference.
 */
export class PayloadTooLargeError extends BatonError {
  constructor(args: { what: string; bytes: number; limit: number }) {
    super(
      'PAYLOAD_TOO_LARGE',
      `${args.what} is ${args.bytes} bytes, over the limit of ${args.limit} bytes (option maxPayloadBytes). ` +
        `Store large data outside the journal and journal a reference to it.`,
    );
  }
}

/**
 * The store was written by a newer Baton (a higher schema version). It was left untouched: upgrade
 * Baton.
 */
export class StoreVersionError extends BatonError {
  constructor(args: { location: string; found: number; supported: number }) {
    super(
      'STORE_VERSION',
      `The store at ${args.location} has schema version ${args.found}, newer than this Baton supports ` +
        `(${args.supported}). Upgrade Baton; the store was left untouched.`,
    );
  }
}

/**
 * There is no Baton store where the URL points (a SQLite file that does not exist, a PostgreSQL
 * database or schema that does not), and it was opened without permission to create one. Nothing
 * was created: check the URL, or create the store (`baton migrate`, or open it with `create`).
 */
export class StoreNotFoundError extends BatonError {
  readonly location: string;
  /** What is missing: the file, the database, Baton's tables. */
  readonly reason: string;
  constructor(args: { location: string; reason: string; hint?: string; cause?: unknown }) {
    super(
      'STORE_NOT_FOUND',
      `There is no Baton store at ${args.location}: ${args.reason}. Nothing was created.` +
        (args.hint ? ` ${args.hint}` : ''),
      { cause: args.cause },
    );
    this.location = args.location;
    this.reason = args.reason;
  }
}

/** The store cannot be opened: it is not a Baton store, or it is damaged. It was left untouched. */
export class StoreCorruptError extends BatonError {
  constructor(args: { location: string; reason: string; cause?: unknown }) {
    super(
      'STORE_CORRUPT',
      `The store at ${args.location} cannot be opened: ${args.reason}. It was left untouched.`,
      { cause: args.cause },
    );
  }
}

/**
 * The store's server cannot be reached, or the connection broke mid-operation. Retryable: an
 * operation that failed this way may or may not have committed, and a run whose write failed is
 * resumed by replay (here or on another worker) once its lease expires.
 */
export class StoreUnavailableError extends BatonError {
  readonly location: string;
  constructor(args: { location: string; reason: string; attempts?: number; cause?: unknown }) {
    const tried =
      args.attempts === undefined ? '' : ` (tried ${args.attempts} time${args.attempts === 1 ? '' : 's'})`;
    super('STORE_UNAVAILABLE', `Cannot reach the store at ${args.location}${tried}: ${args.reason}.`, {
      cause: args.cause,
      disposition: 'retryable',
      retryAfterMs: 1000,
    });
    this.location = args.location;
  }
}

/** The store can be read but not written: a read-only file, directory, mount or database server. */
export class StoreReadOnlyError extends BatonError {
  constructor(args: { location: string; reason: string; cause?: unknown }) {
    super(
      'STORE_READ_ONLY',
      `The store at ${args.location} is read-only (${args.reason}). Read commands (show, runs, history, explain, ` +
        'verify, export, audit) work on it; to start, signal or run work, give Baton write access to the store ' +
        '(for SQLite: the file and its directory). Nothing was written.',
      { cause: args.cause },
    );
  }
}

/** The store's disk (or quota) is full. Retryable once space is freed. */
export class StoreFullError extends BatonError {
  constructor(args: { location: string; reason: string; cause?: unknown }) {
    super(
      'STORE_FULL',
      `The store at ${args.location} is out of space (${args.reason}). Free disk space (or raise the quota) and ` +
        'retry; the write was rolled back and nothing committed was lost.',
      { cause: args.cause, disposition: 'retryable', retryAfterMs: 5000 },
    );
  }
}

/** This machine's clock and the store server's disagree by more than the tolerance. */
export class ClockSkewError extends BatonError {
  readonly skewMs: number;
  constructor(args: { location: string; skewMs: number; toleranceMs: number }) {
    const direction = args.skewMs > 0 ? 'behind' : 'ahead of';
    super(
      'CLOCK_SKEW',
      `This machine's clock is ${Math.abs(Math.round(args.skewMs))} ms ${direction} the clock of the store at ` +
        `${args.location} (tolerance ${args.toleranceMs} ms). Leases and timers compare times written by ` +
        `every worker, so fix the clock (NTP) before running workers against this store.`,
    );
    this.skewMs = args.skewMs;
  }
}

/** A journal row the store cannot read back (its JSON was altered or damaged). `baton verify` reports it. */
export class JournalCorruptError extends BatonError {
  readonly runId: string;
  readonly seq: number;
  readonly field: string;
  constructor(args: { runId: string; seq: number; field: string; cause?: unknown }) {
    super(
      'JOURNAL_CORRUPT',
      `Event ${args.seq} of run ${args.runId} cannot be read: its ${args.field} is not valid JSON. ` +
        `The journal was altered or damaged; run 'baton verify ${args.runId}'.`,
      { cause: args.cause },
    );
    this.runId = args.runId;
    this.seq = args.seq;
    this.field = args.field;
  }
}

/**
 * A write expected the run's journal to end where it does not: another writer appended first (a
 * second worker, or a resume racing another). Nothing of the write was committed.
 */
export class SeqConflictError extends BatonError {
  readonly runId: string;
  constructor(args: { runId: string; expectedSeq: number; lastSeq: unknown }) {
    super(
      'SEQ_CONFLICT',
      `Run ${args.runId}: expected to append seq ${args.expectedSeq}, but the journal ends at seq ${String(args.lastSeq)}.`,
    );
    this.runId = args.runId;
  }
}

/** A write consumed a signal that another write had consumed already (or that is not the run's). Nothing was committed. */
export class SignalConsumedError extends BatonError {
  readonly runId: string;
  constructor(args: { runId: string; signalIds: readonly string[] }) {
    super(
      'SIGNAL_CONSUMED',
      `Run ${args.runId}: signal(s) ${args.signalIds.join(', ')} were already consumed or are not the run's.`,
    );
    this.runId = args.runId;
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

/**
 * An attempt of a step ran past its `timeout`; its abort signal fired. Retryable under the step's
 * retry policy.
 */
export class StepTimeoutError extends BatonError {
  constructor(args: { step: string; timeoutMs: number }) {
    super('STEP_TIMEOUT', `Step '${args.step}' did not finish within ${args.timeoutMs} ms.`, {
      disposition: 'retryable',
    });
  }
}

/**
 * No signal arrived within `ctx.waitFor`'s `timeout` (journaled as `signal.timedOut`). Catch it to
 * take another path.
 */
export class WaitTimeoutError extends BatonError {
  constructor(args: { signal: string; timeoutMs: number }) {
    super('WAIT_TIMEOUT', `No signal '${args.signal}' arrived within ${args.timeoutMs} ms.`);
  }
}

/**
 * `baton.waitFor(runId, { timeout })` (or `run.result({ timeout })`) gave up: the run had not
 * finished when the wait's timeout passed. The run itself goes on; wait again to keep waiting.
 */
export class RunWaitTimeoutError extends BatonError {
  readonly runId: string;
  /** The run's status when the wait gave up. */
  readonly status: string;
  constructor(args: { runId: string; status: string; timeoutMs: number }) {
    super(
      'RUN_WAIT_TIMEOUT',
      `Run ${args.runId} is still ${args.status} after the wait's timeout of ${args.timeoutMs} ms; the run goes on.`,
      { disposition: 'retryable' },
    );
    this.runId = args.runId;
    this.status = args.status;
  }
}

/**
 * The run did not finish within its `timeout` (the workflow's, or `start`'s): it failed, and its
 * children were cancelled.
 */
export class RunTimeoutError extends BatonError {
  readonly timeoutMs: number;
  constructor(args: { runId: string; timeoutMs: number }) {
    super('RUN_TIMEOUT', `Run ${args.runId} exceeded its timeout of ${args.timeoutMs} ms.`);
    this.timeoutMs = args.timeoutMs;
  }
}

/**
 * The run was cancelled (`baton.cancel`, the CLI, the API, or its parent); in-flight work saw its
 * abort signal.
 */
export class RunCancelledError extends BatonError {
  constructor(args: { runId: string; reason?: string }) {
    super('RUN_CANCELLED', `Run ${args.runId} was cancelled${args.reason ? `: ${args.reason}` : ''}.`);
  }
}

/**
 * The run was paused (`baton.pause`): the worker holding it stops its activation and releases it,
 * as when a worker shuts down; no worker claims it again until it is resumed. Suspend: the run
 * resumes by replay, so in-flight steps run again with the same idempotency key.
 */
export class RunPausedError extends BatonError {
  constructor(args: { runId: string }) {
    super('RUN_PAUSED', `Run ${args.runId} was paused; it resumes when someone resumes it (baton resume).`, {
      disposition: 'suspend',
    });
  }
}

/** The run ended in failure; `run.result()` rejects with this, carrying the journaled error. */
export class RunFailedError extends BatonError {
  readonly runId: string;
  readonly error: SerializedError;
  constructor(args: { runId: string; error: SerializedError }) {
    super(
      args.error.code ?? 'RUN_FAILED',
      `Run ${args.runId} failed: ${args.error.name}: ${args.error.message}`,
    );
    this.runId = args.runId;
    this.error = args.error;
  }
}

/**
 * A configuration that cannot work (the config file, a store URL, a missing optional package); refused
 * before anything runs.
 */
export class ConfigError extends BatonError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFIG', message, { cause: options.cause });
  }
}

/**
 * An argument that fails its check (a name, a duration, an option out of range), refused before
 * anything is journaled.
 */
export class InvalidArgumentError extends BatonError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** A step, model call, tool or workflow names a resource pool that is not configured. Nothing ran. */
export class UnknownPoolError extends BatonError {
  readonly pool: string;
  constructor(args: { pool: string; known: readonly string[]; where?: string }) {
    const near = args.known.find((name) => name.toLowerCase() === args.pool.toLowerCase());
    super(
      'UNKNOWN_POOL',
      `${args.where ?? 'A call'} names the resource pool '${args.pool}', which is not configured` +
        `${near ? ` (did you mean '${near}'?)` : ''}. Configured pools: ${args.known.length ? args.known.join(', ') : '(none)'}. ` +
        `Add it under \`pools\` in baton.config.ts or the options of Baton.open.`,
    );
    this.pool = args.pool;
  }
}

/**
 * Too many runs are queued: `start` refused the run and wrote nothing. Retry after `retryAfterMs`,
 * estimated from the rate at which runs finished in the last minute (HTTP 429 with Retry-After).
 */
export class OverloadedError extends BatonError {
  readonly queued: number;
  readonly limit: number;
  readonly tenant: string | undefined;
  constructor(args: { queued: number; limit: number; tenant?: string; finishedLastMinute: number }) {
    const retryAfterMs = OverloadedError.retryAfter(args.queued - args.limit + 1, args.finishedLastMinute);
    const who = args.tenant === undefined ? '' : ` for tenant '${args.tenant}'`;
    const option = args.tenant === undefined ? 'maxQueuedRuns' : 'maxQueuedRunsPerTenant';
    super(
      'OVERLOADED',
      `Not taking new runs${who}: ${args.queued} runs are queued and the bound is ${args.limit} (option ${option}). ` +
        `Nothing was written. At the rate runs finished in the last minute (${args.finishedLastMinute}), ` +
        `retry in about ${Math.ceil(retryAfterMs / 1000)} s.`,
      { disposition: 'retryable', retryAfterMs },
    );
    this.queued = args.queued;
    this.limit = args.limit;
    this.tenant = args.tenant;
  }

  /** The time for `excess` runs to drain at the last minute's rate: 1 minute when none finished, at most 5. */
  static retryAfter(excess: number, finishedLastMinute: number): number {
    if (finishedLastMinute <= 0) return 60_000;
    return Math.min(300_000, Math.max(100, Math.ceil((Math.max(1, excess) * 60_000) / finishedLastMinute)));
  }
}

/** A call in a resource pool was refused by its provider for going too fast (HTTP 429). Retryable. */
export class RateLimitedError extends BatonError {
  readonly pool: string | undefined;
  readonly status: number | undefined;
  constructor(args: { pool?: string; status?: number; retryAfterMs?: number; cause?: unknown }) {
    const where = args.pool === undefined ? 'A call' : `A call in pool '${args.pool}'`;
    const after =
      args.retryAfterMs === undefined ? '' : `; the provider asked to retry after ${args.retryAfterMs} ms`;
    super(
      'RATE_LIMITED',
      `${where} was rate limited${args.status ? ` (HTTP ${args.status})` : ''}${after}: ${causeText(args.cause)}`,
      {
        cause: args.cause,
        disposition: 'retryable',
        ...definedFields({ retryAfterMs: args.retryAfterMs }),
      },
    );
    this.pool = args.pool;
    this.status = args.status;
  }
}

/** A call in a resource pool failed in a way that may pass (HTTP 5xx, 408, a timeout, a broken connection). Retryable. */
export class ServiceUnavailableError extends BatonError {
  readonly pool: string | undefined;
  readonly status: number | undefined;
  constructor(args: { pool?: string; status?: number; retryAfterMs?: number; cause?: unknown }) {
    const where = args.pool === undefined ? 'A call' : `A call in pool '${args.pool}'`;
    super(
      'SERVICE_UNAVAILABLE',
      `${where} failed${args.status ? ` (HTTP ${args.status})` : ''}: ${causeText(args.cause)}`,
      {
        cause: args.cause,
        disposition: 'retryable',
        ...definedFields({ retryAfterMs: args.retryAfterMs }),
      },
    );
    this.pool = args.pool;
    this.status = args.status;
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
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
  return {
    name: 'Error',
    message: typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error)),
  };
}

/**
 * An error as a journal event records a failure the workflow sees: {@link serializeError} without the
 * stack, which differs between runs and machines and would leak paths into the record.
 */
export function serializeErrorWithoutStack(error: unknown): SerializedError {
  const { stack: _stack, ...rest } = serializeError(error);
  return rest;
}
