import type { EventDraft, GrantRecord, JournalEvent } from '../journal/events.ts';
import type { CancellationScope } from './cancellation-scope.ts';
import type { Duration } from './duration.ts';
import type { InputSchema } from './input-schema.ts';
import type { RetryPolicy } from './retry.ts';

/** What a step's function receives. */
export interface StepInfo {
  runId: string;
  /** The step's position among the run's ctx calls. */
  op: number;
  /**
   * `runId:op`: the same on every attempt and after a crash. Pass it to outside systems (payment
   * APIs, ledgers, queues) so that a step re-run after a crash applies its effect once.
   */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the step times out, its scope (or the run) is cancelled, or the worker loses the run. */
  signal: AbortSignal;
}

export interface StepOptions {
  retry?: RetryPolicy;
  /** Each attempt fails with StepTimeoutError (retryable) after this long. */
  timeout?: Duration;
  /**
   * The resource pool (baton.config.ts `pools`) each attempt holds a slot of. An attempt waits for
   * its slot in this process while the wait is short, and parks the run when it is long; errors
   * that look like HTTP errors are classified (429 → RateLimitedError after its Retry-After, 5xx →
   * ServiceUnavailableError, other 4xx → not retried). A pool that is not configured fails the
   * step with UnknownPoolError before it runs.
   */
  pool?: string;
}

export interface WaitOptions {
  /** Throw WaitTimeoutError when no signal arrived within this time. */
  timeout?: Duration;
}

export interface ChildOptions {
  priority?: number;
  /** The child's own timeout; it never outlives its parent's deadline (it inherits what is left of it). */
  timeout?: Duration;
  /**
   * What happens to the child when the parent is cancelled or times out: `cancel` (default) asks
   * it to cancel too; `abandon` leaves it running (a detached child that outlives its parent).
   */
  parentClose?: 'cancel' | 'abandon';
  /**
   * The grant the child run starts under, kept in its `run.started`. Set by the access layer (the
   * parent's grant narrowed to what the child needs); without one, the child holds no grant.
   */
  grant?: GrantRecord;
}

/** A child run: await it for its result (a durable future; awaiting later is fine). */
export interface ChildRun<T> extends PromiseLike<T> {
  /** Resolves to the child's run id once the child is recorded as started. */
  readonly runId: Promise<string>;
}

/**
 * The durable API a workflow uses. Every call is journaled, takes the next op number when it is
 * made, and on replay returns its recorded result instead of running again.
 */
export interface WorkflowContext {
  readonly runId: string;
  readonly workflow: string;
  readonly tenant: string;
  /** Who started the run (`user:alice`, `service:cron`). */
  readonly principal: string;
  /**
   * The identity events are written under, the chain it acts for and, when the run has one, the
   * grant it acts under (as journaled in `run.started`; src/access reads and narrows it).
   */
  readonly identity: { actor: string; onBehalfOf: readonly string[]; grant?: GrantRecord };

  /**
   * Runs `fn` at least once and journals its result; after a crash, a completed step returns its
   * journaled result and does not run again. A crash while `fn` runs runs it again with the same
   * `idempotencyKey`. Failed attempts are journaled and retried by `options.retry`
   * (default 3 attempts, exponential backoff with full jitter); a step that fails for good throws
   * StepFailedError into the workflow, which may catch it.
   *
   * @example const user = await ctx.step('load-user', () => db.users.find(id));
   */
  step<T>(name: string, fn: (info: StepInfo) => T | Promise<T>, options?: StepOptions): Promise<T>;

  /**
   * A durable step: `ctx.step` under the name Restate (`ctx.run`) and DBOS (`runStep`) give it,
   * with the same semantics and the same journal. Runs `fn` at least once and journals its result;
   * after a crash a completed step returns its journaled result and does not run again; failed
   * attempts are retried by `options.retry` and a step that fails for good throws StepFailedError.
   * (To run an agent, use `ctx.runAgent`.)
   *
   * @example const user = await ctx.run('load-user', () => db.users.find(id));
   */
  run<T>(name: string, fn: (info: StepInfo) => T | Promise<T>, options?: StepOptions): Promise<T>;

  /**
   * Waits durably. The run holds no worker while it sleeps; it resumes (on any worker) by replay
   * once the time has come, even after days or a restart.
   */
  sleep(duration: Duration, name?: string): Promise<void>;

  /**
   * Waits durably for a signal sent with `baton.signal(runId, name, payload)` and returns its
   * payload. A signal sent before the wait is kept and delivered. With a timeout, throws
   * WaitTimeoutError when it passes first.
   */
  waitFor<T = unknown>(signal: string, options?: WaitOptions): Promise<T>;

  /** Starts a child run now; await the returned future (now or later) for its result. */
  child<W extends WorkflowDefinition<any, any, any>>(
    workflow: W,
    input: WorkflowInput<W>,
    options?: ChildOptions,
  ): ChildRun<WorkflowOutput<W>>;

  /** The current time, journaled: the same value on replay. */
  now(): Date;
  /** A random number in [0, 1), the same on replay. */
  random(): number;
  /** A random UUID (v4 format), the same on replay. */
  uuid(): string;

  /**
   * A version marker for changing workflow code while runs are in flight. Returns true for runs
   * that reach this point on the new code, false for runs whose history was written by the old code.
   *
   * The first call with an id decides and journals one `patch.marked`; later calls with the same
   * id in the run return the same answer without journaling again (runs started before engine
   * flag 1 keep their one-marker-per-call histories).
   *
   * @example if (ctx.patched('send-receipt')) await ctx.step('receipt', sendReceipt);
   */
  patched(patchId: string): boolean;

  /**
   * Retires a patch once no run that can take the old branch is left: the code keeps only the new
   * branch and calls `deprecatePatch(id)` where it called `patched(id)`. A run whose history holds
   * the marker still replays (the marker is consumed here); new runs journal nothing. Calling both
   * `patched(id)` and `deprecatePatch(id)` in one run throws PatchMisuseError.
   *
   * @example ctx.deprecatePatch('send-receipt'); await ctx.step('receipt', sendReceipt);
   */
  deprecatePatch(patchId: string): void;

  /**
   * Publishes a durable value for readers outside the run: `baton.getEvent(runId, key)`, the HTTP
   * API and `baton get-event` read the latest value of each key from the journal, without a worker
   * replaying the run. Journaled (`event.published`) and committed before it resolves; on replay it
   * writes nothing again. A key is 1–256 characters; the value is JSON within the payload limit
   * (else PayloadTooLargeError, before anything is written).
   *
   * @example await ctx.setEvent('progress', { done: 3, total: 10 });
   */
  setEvent(key: string, value: unknown): Promise<void>;

  /**
   * Closes this run (status `continued`) and starts its successor on the same workflow with `input`
   * and a fresh history: for work that runs for weeks and must not carry its whole journal. The
   * successor keeps the principal, tenant, grant, parent and priority; `run.continued` and the
   * successor's `run.started` (`continuedFrom`) link the two both ways, and `result()` of any run of
   * the chain follows it to the final result. Await it (`return ctx.continueAsNew(…)`): it never
   * resolves. Throws ContinueAsNewInStepError inside a step's function, and PayloadTooLargeError
   * for an input over the limit. After a crash before the run closed, the same successor is found
   * again (it is started under the idempotency key `continue:<runId>`).
   *
   * @example if (turns > 500) return ctx.continueAsNew({ summary, cursor });
   */
  continueAsNew(input: unknown): Promise<never>;

  /**
   * Runs `fn` in a cancellation scope of its own, inside the current one: `scope.cancel()` raises
   * CancelledError at the ops in flight inside it (a timer, a branch, a child's await) and at any op
   * called in it afterwards, without cancelling the run. Cancelling the run cancels it too.
   *
   * @example
   * const answer = await ctx.cancellable(async (scope) => {
   *   const reminder = ctx.sleep('1d', 'reminder').then(() => 'late');
   *   const reply = await ctx.waitFor<string>('reply');
   *   scope.cancel('answered'); // the reminder timer is journaled as cancelled
   *   await reminder.catch(() => undefined);
   *   return reply;
   * });
   */
  cancellable<T>(fn: (scope: CancellationScope) => Promise<T>): Promise<T>;

  /**
   * Runs `fn` where cancellation does not reach: its ops run to the end even when the run (or a
   * scope around) is cancelled. Use it for durable cleanup after catching CancelledError.
   *
   * @example
   * try {
   *   await ctx.waitFor('payment');
   * } catch (error) {
   *   await ctx.nonCancellable(() => ctx.step('release-hold', () => releaseHold()));
   *   throw error;
   * }
   */
  nonCancellable<T>(fn: () => Promise<T>): Promise<T>;

  /** The cancellation scope the code is running in (the run's own outside any `cancellable`). */
  readonly cancellation: CancellationScope;

  /** The lower-level API the layers above the engine (agents, access, guard) build on. */
  readonly operations: OperationApi;

  /**
   * The run's live stream (docs/guide/live-streams.md): `ctx.stream.write(data)` sends progress to
   * every reader of the run (`run.stream()`, SSE, `baton follow`). Ephemeral: not journaled, never
   * awaited, not written again on replay, pruned after a while; a crash may lose the last parts.
   *
   * @example await ctx.step('index', async () => { for (const file of files) { ctx.stream.write({ indexed: file }); await index(file); } });
   */
  readonly stream: RunStreamApi;
}

/** What a workflow writes to its run's live stream (see {@link WorkflowContext.stream}). */
export interface RunStreamApi {
  /** Sends `data` (JSON) to the run's readers as a `progress` part. Does nothing while the run replays. */
  write(data: unknown): void;
}

/**
 * A durable operation with its own event types: the primitive under ctx.step, tool calls and model
 * calls. Layers above the engine use it; workflow code uses the ctx methods.
 */
export interface OperationApi {
  /**
   * Takes the next op and calls `body` with that op's recorded events (empty when it never ran).
   * `describe` is what this code asks for, as `prefix:name` (e.g. 'tool:payments.refund'); when the
   * history holds something else at this op, NonDeterminismError is thrown.
   *
   * On replay, `body` of an op that ran before is called in the order the ops first finished (see
   * docs/decisions/0001). An op that only groups other ops (an agent's loop, a pattern) passes
   * `{ container: true }`: its body starts at once and the ops inside it keep the order.
   */
  run<T>(
    describe: string,
    body: (op: OperationHandle) => Promise<T>,
    options?: { container?: boolean },
  ): Promise<T>;
  /** Signals sent to the run and not yet consumed by this activation, oldest first. */
  takeSignal(name: string): { signalId: string; payload: unknown; sentBy: string } | undefined;
  /**
   * What the history holds at the op the next call would take (`prefix:name`, as `run` compares),
   * or undefined past its end. For layers whose configuration decides whether they take an op of
   * their own (access control authorizing child starts): a recorded run keeps its shape.
   */
  peek(): string | undefined;
  readonly maxPayloadBytes: number;
  /**
   * Whether the engine that started the run had the numbered behaviour `flag`
   * (src/engine/engine-flags.ts): a layer that changes what it journals keeps old runs' shape.
   */
  hasFlag(flag: number): boolean;
  /**
   * What a fork of this run changed for the layers above (`run.forked` overrides, input aside):
   * the agents layer reads `model` and `instructions`. Empty for a run that is not a fork.
   */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

export interface OperationHandle {
  readonly op: number;
  readonly recorded: readonly JournalEvent[];
  readonly idempotencyKey: string;
  /** Aborted when the op's cancellation scope (or the run) is cancelled, or the worker loses the run. */
  readonly signal: AbortSignal;
  /** Journals events (and consumes signals) and resolves, once they are committed, with them as written (seq, hash). */
  append(
    events: readonly EventDraft[],
    options?: { consumeSignals?: string[] },
  ): Promise<readonly JournalEvent[]>;
  /** Journals an event with the next write, without waiting for a commit of its own. */
  buffer(event: EventDraft): void;
  /** Parks this op: the run suspends once nothing else is in flight, and resumes at `wakeAt` or on a wake-up. */
  block(wakeAt?: number): Promise<never>;
  /** Counts `work` as in flight, so the run does not suspend while it runs. */
  active<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs `work` (counted as in flight) holding a slot of the resource pool `pool`: see
   * `withPool` in src/resources/with-pool.ts. With `pool` undefined, runs `work` at once.
   */
  withPool<T>(
    pool: string | undefined,
    estimate: PoolEstimate,
    work: (lease: PoolLease) => Promise<T>,
  ): Promise<T>;
  now(): number;
}

export type { RetryPolicy };

/** What a call learns about, and tells, the pool it holds. */
export interface PoolLease {
  readonly pool: string;
  /** How long the call waited for its slot, in ms (0 when it did not wait). */
  readonly waitedMs: number;
  /** The tokens the call really used (a model's reported usage): corrects the reservation. */
  reportTokens(tokens: number): void;
}

/** How much of a pool a call takes besides its slot and request. */
export interface PoolEstimate {
  /** Tokens to reserve now, corrected by `lease.reportTokens` when the call ends. */
  tokens?: number;
}

/** A query of a workflow: a read-only function of the run's published values (latest per key). */
export type WorkflowQuery = (values: Readonly<Record<string, unknown>>) => unknown;

export interface WorkflowOptions {
  /** Fail the run when it has not finished within this time of starting. */
  timeout?: Duration;
  /**
   * A resource pool (baton.config.ts `pools`) whose slot each run of this workflow holds while it
   * runs: a run that finds the pool full parks, holding no worker slot, until a slot frees for it.
   * Parked on a timer or a signal, a run holds no slot either.
   */
  pool?: string;
  description?: string;
  /**
   * The input's schema (zod, or any Standard Schema): `Baton.start` checks the input against it
   * before anything is journaled (INVALID_ARGUMENT naming the field), and the HTTP server describes
   * a zod schema as JSON Schema, from which the web UI builds its start form.
   *
   * @example workflow('refund', fn, { input: z.object({ chargeId: z.string(), cents: z.int().positive() }) })
   */
  input?: InputSchema;
  /**
   * Read-only queries, answered from the values the run published (`ctx.setEvent`), latest per
   * key, without a worker replaying it: `baton.query(runId, name)`, HTTP and `baton query`.
   *
   * @example queries: { percent: (values) => { const p = values.progress as { done: number; total: number } | undefined; return p ? Math.round((100 * p.done) / p.total) : 0; } }
   */
  queries?: Readonly<Record<string, WorkflowQuery>>;
}

/** A registered piece of durable code. Create with {@link workflow}. */
export interface WorkflowDefinition<
  Input = any,
  Output = any,
  Context extends WorkflowContext = WorkflowContext,
> {
  readonly kind: 'workflow';
  readonly name: string;
  readonly options: WorkflowOptions;
  readonly fn: (ctx: Context, input: Input) => Promise<Output>;
}

export type WorkflowInput<W> = W extends WorkflowDefinition<infer I, any, any> ? I : never;
export type WorkflowOutput<W> = W extends WorkflowDefinition<any, infer O, any> ? O : never;
