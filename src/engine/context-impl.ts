import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BatonError,
  NonDeterminismError,
  RunFailedError,
  StepFailedError,
  InvalidArgumentError,
  StepTimeoutError,
  UnknownPoolError,
  WaitTimeoutError,
  serializeError,
  type SerializedError,
} from '../errors.ts';
import { withCanonicalJson } from '../journal/hash-chain.ts';
import { rejected } from '../argument-checks.ts';
import type { EventDraft, GrantRecord, JournalEvent, JournalEventPayloads } from '../journal/events.ts';
import { isTerminal, type RunRecord, type SignalRecord } from '../store/store.ts';
import { checkPayload, encodePayload } from './check-payload.ts';
import type { NewStreamPart } from '../store/run-streams.ts';
import type {
  ChildOptions,
  ChildRun,
  OperationApi,
  RunStreamApi,
  OperationHandle,
  StepInfo,
  StepOptions,
  WaitOptions,
  WorkflowContext,
} from './context.ts';
import {
  CancelledError,
  Scope,
  currentScope,
  type CancellableOp,
  type CancellationScope,
} from './cancellation-scope.ts';
import { MAX_TIMER_MS, toMilliseconds, type Duration } from './duration.ts';
import { History, describeOp, readableOp } from './history.ts';
import type { PoolEstimate, PoolGate, PoolLease } from './pool-gate.ts';
import { publishValue } from './published-values.ts';
import { ContinueAsNewInStepError, ContinueAsNewRequest, stepScope } from './continue-as-new.ts';
import { FLAG_PATCH_MARKER_ONCE, hasFlag } from './engine-flags.ts';
import { PatchMisuseError, checkPatchId } from './patches.ts';
import { backoffDelay, isRetryable, resolveRetryPolicy } from './retry.ts';
import type { RunJournal } from './run-journal.ts';
import type { WorkflowDefinition, WorkflowInput, WorkflowOutput } from './workflow.ts';

export interface ChildStartRequest {
  workflow: WorkflowDefinition;
  input: unknown;
  parent: RunRecord;
  idempotencyKey: string;
  options: ChildOptions;
}

export interface RunContextArgs {
  run: RunRecord;
  history: History;
  journal: RunJournal;
  signals: readonly SignalRecord[];
  clock: () => number;
  abort: AbortSignal;
  maxPayloadBytes: number;
  /** Retry delays up to this long are waited in memory; longer ones park the run. */
  inlineRetryMs: number;
  startChild: (request: ChildStartRequest) => Promise<string>;
  getRun: (runId: string) => Promise<RunRecord | undefined>;
  /** Resource pools (src/resources); without them, any pool named is unknown. */
  pools?: PoolGate;
  /** Asks a child run to cancel (a scope around its await was cancelled). */
  cancelChild?: (childRunId: string, reason: string) => Promise<void>;
  /** Replay only (src/explain/replay.ts): answer every op from the history and run nothing. */
  replayOnly?: ReplayOnlyObserver;
  /** Where the run's live stream parts go (progress, step-started); none: nothing is streamed. */
  stream?: RunStreamSink;
}

/** Takes a run's ephemeral stream parts (src/engine/run-stream-writer.ts); never waits. */
export interface RunStreamSink {
  write(part: NewStreamPart): void;
  /** Resolves once the parts written so far are stored: an activation ends only after its parts. */
  flush?(): Promise<void>;
}

/**
 * What a replay-only context reports instead of acting. An op the history does not hold, and live
 * work or a write inside a recorded op (a step's function, a model or tool call, a result the
 * history lacks), is reported and blocks: nothing runs and nothing is written.
 */
export interface ReplayOnlyObserver {
  /** The history ends with the run finished: the old code passed every patch point without a marker. */
  readonly finished: boolean;
  beyondHistory(op: number, describe: string, what: 'op' | 'work' | 'write'): void;
  /** The code asked for something other than what the history holds (also thrown into the workflow). */
  diverged(error: NonDeterminismError, op: number, describe: string): void;
}

/**
 * The engine's implementation of {@link WorkflowContext} for one activation of one run. It hands
 * out op numbers, answers from history where the run has been before, and tracks what is in flight
 * so the executor knows when the run can only wait (and so parks it).
 */
export class RunContext implements WorkflowContext {
  readonly runId: string;
  readonly workflow: string;
  readonly tenant: string;
  readonly principal: string;
  /** When the run was created (epoch ms): what wall-time budgets measure from. */
  readonly startedAt: number;
  readonly identity: { actor: string; onBehalfOf: readonly string[]; grant?: GrantRecord };
  readonly operations: OperationApi;
  readonly stream: RunStreamApi = {
    write: (data) => {
      // Only once the code has taken every recorded op: a replay does not send its progress again.
      const replaying = this.#history.minUntakenLastSeq() !== Infinity;
      if (replaying || this.#args.replayOnly) return;
      this.#streamPart('progress', undefined, { data: data === undefined ? null : data });
    },
  };

  readonly #args: RunContextArgs;
  readonly #history: History;
  readonly #journal: RunJournal;
  readonly #signals: SignalRecord[];
  #nextOp = 0;
  #randomCount = 0;
  #uuidCount = 0;
  /** What `patched` answered for each id; with FLAG_PATCH_MARKER_ONCE, later calls get the same. */
  readonly #patches = new Map<string, boolean>();
  readonly #deprecatedPatches = new Set<string>();
  readonly #patchOnce: boolean;
  #active = 0;
  readonly #blocked = new Map<number, number | undefined>();
  #idleCheck = false;
  /**
   * `sticky`: a cancellation, applied only once the code has taken `ops` ops and asked for every op
   * that finished before it (as when it was delivered), or once nothing else can move the run.
   */
  readonly #replayGates: ReplayGate[] = [];
  readonly #root: Scope;
  /** Whether the workflow made a scope of its own (`cancellable`, `nonCancellable`). */
  #scoped = false;
  /** The run's cancel request, once there is one (recorded, or delivered to this activation). */
  #cancelRequest: CancelRequest | undefined;
  #replayScheduled = false;
  #resolveIdle!: () => void;
  #parked = false;
  /** Resolves when every op in flight is waiting on time or a wake-up: the run should park. */
  readonly idle = new Promise<void>((resolve) => (this.#resolveIdle = resolve));

  constructor(args: RunContextArgs) {
    this.#args = args;
    this.runId = args.run.runId;
    this.workflow = args.run.workflow;
    this.tenant = args.run.tenant;
    this.principal = args.run.principal;
    this.startedAt = args.run.createdAt;
    const started = args.history.events[0];
    const grant = started?.type === 'run.started' ? started.payload.grant : undefined;
    this.identity = {
      actor: `workflow:${args.run.workflow}`,
      onBehalfOf: [args.run.principal],
      ...(grant === undefined ? {} : { grant }),
    };
    this.#history = args.history;
    const flags = started?.type === 'run.started' ? (started.payload.flags ?? []) : [];
    this.#patchOnce = hasFlag(flags, FLAG_PATCH_MARKER_ONCE);
    this.#journal = args.journal;
    this.#signals = [...args.signals];
    this.#root = new Scope({ runId: this.runId, abort: args.abort });
    const requested = args.history.kept.findLast((event) => event.type === 'run.cancelRequested');
    if (requested) {
      const { ops = 0, ...request } = requested.payload;
      this.#cancelRequest = request;
      const apply = (): void => this.#cancelRun(request);
      if (
        this.#replayGates.length === 0 &&
        this.#nextOp >= ops &&
        requested.seq < this.#history.minUntakenLastSeq()
      )
        queueMicrotask(apply);
      else this.#insertGate({ lastSeq: requested.seq, resolve: apply, sticky: true, ops });
    }
    // A fork of a fork holds its origin's run.forked too: the last one is this run's.
    const forked = args.history.events.findLast((event) => event.type === 'run.forked');
    const { input: _input, ...overrides } = forked?.payload.overrides ?? {};
    this.operations = {
      run: (describe, body, options) => this.#operation(describe, body, options),
      takeSignal: (name) => this.#takeSignal(name),
      peek: () => {
        const first = this.#history.peek(this.#nextOp + 1)[0];
        return first === undefined ? undefined : describeOp(first);
      },
      maxPayloadBytes: args.maxPayloadBytes,
      hasFlag: (flag) => hasFlag(flags, flag),
      overrides,
    };
  }

  /** The earliest time a parked op wants to wake, if any has one. */
  get wakeAt(): number | undefined {
    let earliest: number | undefined;
    for (const at of this.#blocked.values()) {
      if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
    }
    return earliest;
  }

  /** The first recorded op the code did not ask for, as a NonDeterminismError (checked at completion). */
  unreplayed(): NonDeterminismError | undefined {
    const event = this.#history.firstUntaken();
    if (!event) return undefined;
    return new NonDeterminismError({
      runId: this.runId,
      seq: event.seq,
      expected: readableOp(describeOp(event)),
      actual: 'the workflow to return',
    });
  }

  // ---- the ops ---------------------------------------------------------------------------------

  #operation<T>(
    describe: string,
    body: (op: OperationHandle) => Promise<T>,
    options: {
      container?: boolean;
      cancellable?: boolean;
      /** The outcome of an op its history settles, read from its events (no handle or body needed). */
      settled?: (recorded: readonly JournalEvent[]) => T;
    } = {},
  ): Promise<T> {
    // In a cancelled scope an op is refused before it takes a number: a replay refuses it at the
    // same point, since the scope is cancelled there too.
    const scope = this.#scope();
    if (scope.error) return Promise.reject(scope.error);
    const op = ++this.#nextOp;
    const recorded = this.#history.take(op);
    const first = recorded[0];
    if (first && describeOp(first) !== describe) {
      const error = new NonDeterminismError({
        runId: this.runId,
        seq: first.seq,
        expected: readableOp(describeOp(first)),
        actual: readableOp(describe),
      });
      this.#args.replayOnly?.diverged(error, op, describe);
      return rejected(error);
    }
    // A container that journaled nothing (a graph node that never started) is not past the history:
    // only what it would write or run is (the replay-only handle reports that).
    if (!first && this.#args.replayOnly && !options.container) return this.#beyondHistory(op, describe, 'op');
    const lastSeq = recorded[recorded.length - 1]?.seq;
    if (options.container || options.cancellable === false) {
      const handle = this.#handle(op, recorded, describe, scope);
      if (!first || options.container) return body(handle);
      return this.#replayTurn(lastSeq!).then(() => body(handle));
    }
    const cancelled = recorded.find((event) => event.type === 'op.cancelled');
    if (cancelled) return this.#replayTurn(lastSeq!).then(() => Promise.reject(cancelledError(cancelled)));
    // An op whose history already settles it (a step completed, a timer fired, a signal taken) gets
    // its recorded outcome at its replay turn: no cancellation can reach it any more, so it needs no
    // guard (a promise and a scope entry per op, which made long replays several times dearer).
    if (first && SETTLING_EVENTS.has(recorded[recorded.length - 1]!.type)) {
      const settled = options.settled;
      if (settled) {
        // Its turn has come already (nothing that finished earlier is still to be asked for):
        // answer now, without a hop through the microtask queue.
        if (this.#replayGates.length === 0 && lastSeq! < this.#history.minUntakenLastSeq())
          return Promise.resolve(settled(recorded));
        return this.#replayTurn(lastSeq!).then(() => settled(recorded));
      }
      const handle = this.#handle(op, recorded, describe, scope);
      return this.#replayTurn(lastSeq!).then(() => body(handle));
    }
    const entry = new OpEntry();
    const handle = this.#handle(op, recorded, describe, scope, entry);
    const running = !first ? body(handle) : this.#replayTurn(lastSeq!).then(() => body(handle));
    return this.#guard(entry, scope, running, (error) => this.#writeCancelled(op, describe, error));
  }

  /**
   * Makes work in flight answer its scope's cancellation: `onCancel` journals it and the returned
   * promise rejects with CancelledError at once, whatever the work does afterwards.
   */
  #guard<T>(
    entry: OpEntry,
    scope: Scope,
    running: Promise<T>,
    onCancel: (error: CancelledError) => void,
  ): Promise<T> {
    // One promise and one reaction per op (replay goes through here for every recorded op).
    return new Promise<T>((resolve, reject) => {
      entry.cancel = (error) => {
        if (entry.settled || entry.cancelled) return;
        entry.cancelled = true;
        if (entry.op !== undefined) this.#blocked.delete(entry.op);
        onCancel(error);
        reject(error);
      };
      scope.add(entry);
      running.then(
        (value) => {
          entry.settled = true;
          scope.remove(entry);
          resolve(value);
        },
        (error: unknown) => {
          entry.settled = true;
          scope.remove(entry);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  #writeCancelled(op: number, describe: string, error: CancelledError, childRunId?: string): void {
    const payload: JournalEventPayloads['op.cancelled'] = {
      op,
      describe,
      scope: error.scope,
      ...(error.reason === undefined ? {} : { reason: error.reason }),
      ...(error.by === undefined ? {} : { by: error.by }),
      ...(childRunId === undefined ? {} : { childRunId }),
    };
    if (this.#args.replayOnly) this.#args.replayOnly.beyondHistory(op, describe, 'write');
    else this.#journal.buffer({ type: 'op.cancelled', payload });
  }

  /** The scope the calling code runs in: the run's own outside any `cancellable`/`nonCancellable`. */
  #scope(): Scope {
    // Reading async context makes every promise of the process dearer (async hooks): only a run
    // that made a scope needs it.
    if (!this.#scoped) return this.#root;
    const scope = currentScope.getStore();
    return scope && scope.runId === this.runId && scope.root === this.#root ? scope : this.#root;
  }

  // ---- cancellation -------------------------------------------------------------------------------

  /** The run's cancel request, once one is journaled (recorded, or delivered to this activation). */
  get cancelRequest(): CancelRequest | undefined {
    return this.#cancelRequest;
  }

  /**
   * A cancel request reached this activation: once the replay has caught up with the journal, it is
   * journaled (`run.cancelRequested`, with the number of ops taken so far, so a replay applies it at
   * the same point) and the run's scope is cancelled. A second request changes nothing.
   */
  deliverCancel(request: CancelRequest): void {
    // Parking already: the run stays runnable (it was asked to cancel) and the next activation is told.
    if (this.#cancelRequest || this.#args.replayOnly || this.#parked) return;
    this.#cancelRequest = request;
    const apply = (): void => {
      const payload: JournalEventPayloads['run.cancelRequested'] = {
        ...(request.reason === undefined ? {} : { reason: request.reason }),
        ...(request.by === undefined ? {} : { by: request.by }),
        ...(request.children === undefined ? {} : { children: request.children }),
        ops: this.#nextOp,
      };
      this.#journal.buffer({ type: 'run.cancelRequested', payload });
      this.#cancelRun(request);
    };
    if (this.#replayGates.length === 0 && this.#history.minUntakenLastSeq() === Infinity) apply();
    else this.#insertGate({ lastSeq: Infinity, resolve: apply, sticky: true, ops: 0 });
  }

  #cancelRun(request: CancelRequest): void {
    this.#root.cancelWith(
      new CancelledError({
        runId: this.runId,
        scope: 'run',
        ...(request.reason === undefined ? {} : { reason: request.reason }),
        ...(request.by === undefined ? {} : { by: request.by }),
      }),
    );
    // Writes the request (when this activation received it) and the ops it cancelled.
    if (!this.#args.replayOnly) void this.#track(() => this.#journal.append([])).catch(() => {});
  }

  cancellable<T>(fn: (scope: CancellationScope) => Promise<T>): Promise<T> {
    const scope = new Scope({ runId: this.runId, parent: this.#scope(), abort: this.#args.abort });
    this.#scoped = true;
    return currentScope
      .run(scope, () => Promise.resolve().then(() => fn(scope)))
      .finally(() => scope.close());
  }

  nonCancellable<T>(fn: () => Promise<T>): Promise<T> {
    const scope = new Scope({
      runId: this.runId,
      parent: this.#scope(),
      shielded: true,
      abort: this.#args.abort,
    });
    this.#scoped = true;
    return currentScope.run(scope, () => Promise.resolve().then(fn)).finally(() => scope.close());
  }

  get cancellation(): CancellationScope {
    return this.#scope();
  }

  /**
   * Replay hands recorded results back in the order the ops first finished (the seq of each op's
   * last event), one at a time, letting the workflow's continuations run in between. Parallel
   * branches then ask for their next ops in the same order as the first time. A result is handed
   * back at once when no recorded op that finished earlier can still be asked for.
   */
  #replayTurn(lastSeq: number): Promise<void> {
    if (this.#replayGates.length === 0 && lastSeq < this.#history.minUntakenLastSeq())
      return Promise.resolve();
    return this.#track(() => new Promise<void>((resolve) => this.#insertGate({ lastSeq, resolve })));
  }

  #insertGate(gate: ReplayGate): void {
    const gates = this.#replayGates;
    let index = gates.length;
    while (index > 0 && gates[index - 1]!.lastSeq > gate.lastSeq) index--;
    gates.splice(index, 0, gate);
    this.#scheduleReplayTurn();
  }

  #scheduleReplayTurn(): void {
    if (this.#replayScheduled) return;
    this.#replayScheduled = true;
    setImmediate(() => {
      this.#replayScheduled = false;
      const head = this.#replayGates[0];
      // A cancellation waits for the ops that finished before it: the code asks for them first.
      if (
        head?.sticky &&
        (this.#nextOp < (head.ops ?? 0) || this.#history.minUntakenLastSeq() < head.lastSeq)
      )
        return;
      this.#replayGates.shift()?.resolve();
      if (this.#replayGates.length > 0) this.#scheduleReplayTurn();
    });
  }

  /** Replay only: reports what the code asked for past the history, and blocks the op. */
  #beyondHistory(op: number, describe: string, what: 'op' | 'work' | 'write'): Promise<never> {
    this.#args.replayOnly!.beyondHistory(op, describe, what);
    return this.#block(op, undefined);
  }

  #handle(
    op: number,
    recorded: readonly JournalEvent[],
    describe: string,
    scope: Scope,
    entry?: OpEntry,
  ): OperationHandle {
    if (this.#args.replayOnly)
      return this.#replayOnlyHandle(op, recorded, describe, scope, this.#args.replayOnly);
    if (entry) entry.op = op;
    // Once its op is cancelled, work still running writes nothing more: the op ended as cancelled.
    const handle: OperationHandle = {
      op,
      recorded,
      idempotencyKey: `${this.runId}:${op}`,
      signal: scope.signal,
      append: (events, options) =>
        entry?.cancelled
          ? Promise.reject(
              this.#root.error ?? scope.error ?? new CancelledError({ runId: this.runId, scope: 'scope' }),
            )
          : this.#appendTracked(events, options),
      buffer: (event) => {
        if (!entry?.cancelled) this.#journal.buffer(event);
      },
      block: (wakeAt) => (entry?.cancelled ? new Promise<never>(() => {}) : this.#block(op, wakeAt)),
      active: (work) => this.#track(work),
      withPool: (pool, estimate, work) =>
        pool === undefined
          ? this.#track(() => work(UNPOOLED))
          : this.#withPool(handle, readableOp(describe), pool, estimate, work),
      now: () => this.#args.clock(),
    };
    return handle;
  }

  #replayOnlyHandle(
    op: number,
    recorded: readonly JournalEvent[],
    describe: string,
    scope: Scope,
    observer: ReplayOnlyObserver,
  ): OperationHandle {
    return {
      op,
      recorded,
      idempotencyKey: `${this.runId}:${op}`,
      signal: scope.signal,
      append: () => this.#beyondHistory(op, describe, 'write'),
      buffer: () => observer.beyondHistory(op, describe, 'write'),
      block: (wakeAt) => this.#block(op, wakeAt),
      active: () => this.#beyondHistory(op, describe, 'work'),
      withPool: () => this.#beyondHistory(op, describe, 'work'),
      now: () => this.#args.clock(),
    };
  }

  #withPool<T>(
    op: OperationHandle,
    what: string,
    pool: string,
    estimate: PoolEstimate,
    work: (lease: PoolLease) => Promise<T>,
  ): Promise<T> {
    const tokens = estimate.tokens ?? 0;
    try {
      if (!Number.isFinite(tokens) || tokens < 0) {
        throw new InvalidArgumentError(`The token estimate of ${what} must be a number ≥ 0, got ${tokens}.`);
      }
      this.#assertPool(pool, what);
    } catch (error) {
      return rejected(error);
    }
    return this.#args.pools!.run(
      op,
      {
        pool,
        tokens,
        runId: this.runId,
        holder: op.idempotencyKey,
        tenant: this.tenant,
        priority: this.#args.run.priority,
        what,
      },
      work,
    );
  }

  #assertPool(pool: string, what: string): void {
    const where = what.charAt(0).toUpperCase() + what.slice(1);
    if (!this.#args.pools) throw new UnknownPoolError({ pool, known: [], where });
    this.#args.pools.assertPool(pool, where);
  }

  /** An op's append, tracked as work in flight: the events written for `events` (after any buffered). */
  #appendTracked(
    events: Parameters<OperationHandle['append']>[0],
    options: Parameters<OperationHandle['append']>[1],
  ): Promise<JournalEvent[]> {
    this.#active++;
    // No async frame: one promise less on every step's way to its commit.
    return this.#journal.append(events, options).then(
      (written) => {
        this.#settleActive();
        return written.length === events.length ? written : written.slice(written.length - events.length);
      },
      (error: unknown) => {
        this.#settleActive();
        throw error;
      },
    );
  }

  #settleActive(): void {
    this.#active--;
    this.#checkIdle();
  }

  async #track<T>(work: () => Promise<T>): Promise<T> {
    this.#active++;
    try {
      return await work();
    } finally {
      this.#active--;
      this.#checkIdle();
    }
  }

  #block(op: number, wakeAt: number | undefined): Promise<never> {
    this.#blocked.set(op, wakeAt);
    this.#checkIdle();
    return new Promise<never>(() => {});
  }

  #checkIdle(): void {
    if (this.#idleCheck || this.#active > 0 || this.#blocked.size === 0) return;
    this.#idleCheck = true;
    // Let the workflow's continuations run first: they may start more work.
    setImmediate(() => {
      this.#idleCheck = false;
      if (this.#active !== 0 || this.#blocked.size === 0) return;
      // A cancellation still waiting for its turn is due now: nothing else will move the run.
      const sticky = this.#replayGates.findIndex((gate) => gate.sticky);
      if (sticky >= 0) {
        this.#replayGates.splice(sticky, 1)[0]!.resolve();
        return;
      }
      this.#parked = true;
      this.#resolveIdle();
    });
  }

  #takeSignal(name: string): { signalId: string; payload: unknown; sentBy: string } | undefined {
    const index = this.#signals.findIndex((signal) => signal.name === name);
    if (index < 0) return undefined;
    const [signal] = this.#signals.splice(index, 1);
    return { signalId: signal!.signalId, payload: signal!.payload, sentBy: signal!.sentBy };
  }

  #streamPart(type: string, op: number | undefined, data: Record<string, unknown>): void {
    const stream = this.#args.stream;
    if (!stream) return;
    const at = this.#args.clock();
    stream.write(
      op === undefined ? { runId: this.runId, type, data, at } : { runId: this.runId, type, op, data, at },
    );
  }

  #checkPayload(value: unknown, what: string): void {
    checkPayload(value, what, this.#args.maxPayloadBytes);
  }

  /** As checkPayload, and returns the value's canonical JSON (so its event is not encoded twice). */
  #encodePayload(value: unknown, what: string): string {
    return encodePayload(value, what, this.#args.maxPayloadBytes);
  }

  run<T>(name: string, fn: (info: StepInfo) => T | Promise<T>, options: StepOptions = {}): Promise<T> {
    return this.step(name, fn, options);
  }

  step<T>(name: string, fn: (info: StepInfo) => T | Promise<T>, options: StepOptions = {}): Promise<T> {
    let policy: ReturnType<typeof resolveRetryPolicy>;
    let timeoutMs: number | undefined;
    try {
      policy = resolveRetryPolicy(options.retry);
      timeoutMs = options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'step timeout');
      if (options.pool !== undefined) this.#assertPool(options.pool, `step '${name}'`);
    } catch (error) {
      return rejected(error);
    }
    return this.#operation<T>(
      `step:${name}`,
      async (op) => {
        let attempt = 0;
        let retryAt: number | undefined;
        for (const event of op.recorded) {
          if (event.type === 'step.completed') return (event.payload as { result?: T }).result as T;
          if (event.type === 'step.failed') {
            const payload = event.payload as { attempt: number; error: SerializedError };
            throw stepFailed(name, payload.attempt, payload.error);
          }
          if (event.type === 'step.attempt.failed') {
            const payload = event.payload as { attempt: number; retryAt: string };
            attempt = payload.attempt;
            retryAt = Date.parse(payload.retryAt);
          }
        }
        for (;;) {
          if (retryAt !== undefined) {
            const wait = retryAt - op.now();
            if (wait > this.#args.inlineRetryMs) await op.block(retryAt);
            else if (wait > 0) await op.active(() => delay(wait, undefined, { signal: op.signal }));
          }
          attempt++;
          const currentAttempt = attempt;
          this.#streamPart('step-started', op.op, { name, attempt: currentAttempt });
          const pool = options.pool;
          const outcome =
            pool !== undefined
              ? await this.#pooledAttempt(op, pool, async () => {
                  const result = await this.#attempt(name, fn, op, currentAttempt, timeoutMs);
                  const resultJson = this.#encodePayload(result ?? null, `The result of step '${name}'`);
                  await op.append([stepCompleted(op.op, name, currentAttempt, result, resultJson)]);
                  return result;
                })
              : await op.active(async () => {
                  let result: T;
                  let resultJson: string;
                  try {
                    result = await this.#attempt(name, fn, op, currentAttempt, timeoutMs);
                    resultJson = this.#encodePayload(result ?? null, `The result of step '${name}'`);
                  } catch (error) {
                    return { ok: false as const, error };
                  }
                  await op.append([stepCompleted(op.op, name, currentAttempt, result, resultJson)]);
                  return { ok: true as const, result };
                });
          if (outcome.ok) return outcome.result;
          if (op.signal.aborted) throw op.signal.reason;
          const error = outcome.error;
          const serialized = serializeError(error);
          if (!isRetryable(error, policy) || currentAttempt >= policy.maxAttempts) {
            await op.append([
              {
                type: 'step.failed',
                payload: { op: op.op, name, attempt: currentAttempt, error: serialized },
              },
            ]);
            throw stepFailed(name, currentAttempt, serialized);
          }
          const retryAfterMs = BatonError.isInstance(error) ? error.retryAfterMs : undefined;
          retryAt = op.now() + backoffDelay(policy, currentAttempt, retryAfterMs);
          await op.append([
            {
              type: 'step.attempt.failed',
              payload: {
                op: op.op,
                name,
                attempt: currentAttempt,
                error: serialized,
                retryAt: new Date(retryAt).toISOString(),
              },
            },
          ]);
        }
      },
      STEP_OPTIONS,
    );
  }

  /** One attempt holding a slot of `pool` (its wait parks the op when long); errors come back as values. */
  async #pooledAttempt<T>(
    op: OperationHandle,
    pool: string,
    attempt: () => Promise<T>,
  ): Promise<{ ok: true; result: T } | { ok: false; error: unknown }> {
    try {
      return { ok: true, result: await op.withPool(pool, {}, attempt) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  #attempt<T>(
    name: string,
    fn: (info: StepInfo) => T | Promise<T>,
    op: OperationHandle,
    attempt: number,
    timeoutMs: number | undefined,
  ): Promise<T> {
    return timeoutMs === undefined
      ? this.#runStep(name, fn, op, attempt, op.signal)
      : this.#timedAttempt(name, fn, op, attempt, timeoutMs);
  }

  async #timedAttempt<T>(
    name: string,
    fn: (info: StepInfo) => T | Promise<T>,
    op: OperationHandle,
    attempt: number,
    timeoutMs: number,
  ): Promise<T> {
    // One timer both fails the attempt and aborts its signal, so a step that answers its abort
    // with a value cannot win the race against its own timeout.
    const timeoutController = new AbortController();
    const signal = AbortSignal.any([op.signal, timeoutController.signal]);
    const running = this.#runStep(name, fn, op, attempt, signal);
    let timer: NodeJS.Timeout | undefined;
    const timeoutError = new StepTimeoutError({ step: name, timeoutMs });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          reject(timeoutError);
          timeoutController.abort(timeoutError);
        },
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
    });
    try {
      const result = await Promise.race([running, timeout]);
      if (timeoutController.signal.aborted) throw timeoutError;
      return result;
    } finally {
      clearTimeout(timer);
      running.catch(() => {});
    }
  }

  #runStep<T>(
    name: string,
    fn: (info: StepInfo) => T | Promise<T>,
    op: OperationHandle,
    attempt: number,
    signal: AbortSignal,
  ): Promise<T> {
    const info: StepInfo = {
      runId: this.runId,
      op: op.op,
      idempotencyKey: op.idempotencyKey,
      attempt,
      signal,
    };
    return stepScope.run(name, () => Promise.resolve().then(() => fn(info)));
  }

  sleep(duration: Duration, name = 'sleep'): Promise<void> {
    let ms: number;
    try {
      ms = toMilliseconds(duration, 'sleep duration');
    } catch (error) {
      return rejected(error);
    }
    return this.#operation(`timer:${name}`, async (op) => {
      let fireAt: number | undefined;
      for (const event of op.recorded) {
        if (event.type === 'timer.fired') return;
        if (event.type === 'timer.set') fireAt = Date.parse((event.payload as { fireAt: string }).fireAt);
      }
      if (fireAt === undefined) {
        fireAt = op.now() + ms;
        op.buffer({
          type: 'timer.set',
          payload: { op: op.op, name, fireAt: new Date(fireAt).toISOString() },
        });
      }
      if (op.now() >= fireAt) {
        op.buffer({ type: 'timer.fired', payload: { op: op.op } });
        return;
      }
      return op.block(fireAt);
    });
  }

  waitFor<T = unknown>(name: string, options: WaitOptions = {}): Promise<T> {
    let timeoutMs: number | undefined;
    try {
      timeoutMs =
        options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'waitFor timeout');
    } catch (error) {
      return rejected(error);
    }
    return this.#operation(`signal:${name}`, async (op) => {
      let deadline: number | undefined;
      let awaited = false;
      for (const event of op.recorded) {
        if (event.type === 'signal.received') return (event.payload as { payload?: T }).payload as T;
        if (event.type === 'signal.timedOut')
          throw new WaitTimeoutError({ signal: name, timeoutMs: timeoutMs ?? 0 });
        if (event.type === 'signal.awaited') {
          awaited = true;
          const at = (event.payload as { deadline?: string }).deadline;
          if (at !== undefined) deadline = Date.parse(at);
        }
      }
      const signal = this.#takeSignal(name);
      if (signal) {
        await op.append(
          [
            {
              type: 'signal.received',
              payload: {
                op: op.op,
                name,
                signalId: signal.signalId,
                sentBy: signal.sentBy,
                payload: signal.payload,
              },
            },
          ],
          { consumeSignals: [signal.signalId] },
        );
        return signal.payload as T;
      }
      if (!awaited) {
        if (timeoutMs !== undefined) deadline = op.now() + timeoutMs;
        op.buffer({
          type: 'signal.awaited',
          payload: {
            op: op.op,
            name,
            ...(deadline === undefined ? {} : { deadline: new Date(deadline).toISOString() }),
          },
        });
      }
      if (deadline !== undefined && op.now() >= deadline) {
        await op.append([{ type: 'signal.timedOut', payload: { op: op.op, name } }]);
        throw new WaitTimeoutError({ signal: name, timeoutMs: timeoutMs ?? 0 });
      }
      return op.block(deadline);
    });
  }

  child<W extends WorkflowDefinition<any, any, any>>(
    workflow: W,
    input: WorkflowInput<W>,
    options: ChildOptions = {},
  ): ChildRun<WorkflowOutput<W>> {
    type Started = { handle: OperationHandle; childRunId: string };
    const scope = this.#scope();
    const describe = `child:${workflow.name}`;
    const abandon = options.parentClose === 'abandon';
    if (options.parentClose !== undefined && options.parentClose !== 'cancel' && !abandon) {
      const error = new InvalidArgumentError(
        `parentClose of child workflow '${workflow.name}' is 'cancel' or 'abandon', got '${String(options.parentClose)}'.`,
      );
      const runId = rejected(error);
      runId.catch(() => {});
      return { runId, then: (onFulfilled, onRejected) => rejected(error).then(onFulfilled, onRejected) };
    }
    // The start itself is short and always completes; its await answers cancellation (below).
    const started: Promise<Started> = this.#operation(
      describe,
      (op) => this.#startChild(op, workflow, input, options, abandon),
      { cancellable: false },
    );
    started.catch(() => {});
    // Awaiting `runId` is optional; a failed start reaches the workflow through the future itself.
    const runId = started.then((value) => value.childRunId);
    runId.catch(() => {});
    let result: Promise<WorkflowOutput<W>> | undefined;
    // The child belongs to the scope it was started in, from its start until its await settles:
    // cancelling the scope asks it to cancel and raises CancelledError at its await.
    const entry = new OpEntry();
    let cancelledWith: CancelledError | undefined;
    let rejectCancelled!: (error: CancelledError) => void;
    const cancelledAwait = new Promise<never>((_, reject) => (rejectCancelled = reject));
    cancelledAwait.catch(() => {});
    const watched = started.then(
      ({ handle, childRunId }) => {
        const recordedCancel = handle.recorded.find((event) => event.type === 'op.cancelled');
        if (recordedCancel) {
          entry.cancelled = true;
          cancelledWith = cancelledError(recordedCancel);
          return;
        }
        entry.cancel = (error) => {
          if (entry.settled || entry.cancelled) return;
          entry.cancelled = true;
          cancelledWith = error;
          this.#blocked.delete(handle.op);
          this.#writeCancelled(handle.op, describe, error, childRunId);
          // A scope's cancellation asks the child to cancel; the run's cancellation cascades to its
          // children by itself (src/engine/executor.ts), as `children` asks.
          if (error.scope === 'scope' && !abandon && this.#args.cancelChild && !this.#args.replayOnly) {
            void this.#track(() =>
              this.#args.cancelChild!(childRunId, 'a cancellation scope of its parent was cancelled'),
            ).catch(() => {});
          }
          rejectCancelled(error);
        };
        if (scope.error) entry.cancel(scope.error);
        else scope.add(entry);
      },
      () => {},
    );
    const awaitResult = async (): Promise<WorkflowOutput<W>> => {
      const { handle, childRunId } = await started;
      await watched;
      if (cancelledWith) throw cancelledWith;
      try {
        return await Promise.race([this.#settleChild<WorkflowOutput<W>>(handle, childRunId), cancelledAwait]);
      } finally {
        entry.settled = true;
        scope.remove(entry);
      }
    };
    return {
      runId,
      then(onFulfilled, onRejected) {
        result ??= awaitResult();
        return result.then(onFulfilled, onRejected);
      },
    };
  }

  /** Starts a child run once (its start is recorded as child.started); on replay, the recorded child. */
  async #startChild<W extends WorkflowDefinition<any, any, any>>(
    op: OperationHandle,
    workflow: W,
    input: WorkflowInput<W>,
    options: ChildOptions,
    abandon: boolean,
  ): Promise<{ handle: OperationHandle; childRunId: string }> {
    const recordedStart = op.recorded.find((event) => event.type === 'child.started');
    if (recordedStart)
      return { handle: op, childRunId: (recordedStart.payload as { childRunId: string }).childRunId };
    this.#checkPayload(input ?? null, `The input of child workflow '${workflow.name}'`);
    const childRunId = await op.active(() =>
      this.#args.startChild({
        workflow,
        input,
        parent: this.#args.run,
        idempotencyKey: `child:${op.idempotencyKey}`,
        options,
      }),
    );
    await op.append([
      {
        type: 'child.started',
        payload: {
          op: op.op,
          childRunId,
          workflow: workflow.name,
          ...(abandon ? { parentClose: 'abandon' } : {}),
        },
      },
    ]);
    return { handle: op, childRunId };
  }

  /** A child's result: recorded, or read from its run once it ended (recorded then), or the op blocks. */
  async #settleChild<T>(handle: OperationHandle, childRunId: string): Promise<T> {
    for (const event of handle.recorded) {
      if (event.type === 'child.completed') return (event.payload as { result?: T }).result!;
      if (event.type === 'child.failed') {
        throw new RunFailedError({
          runId: childRunId,
          error: (event.payload as { error: SerializedError }).error,
        });
      }
    }
    const child = await handle.active(() => this.#args.getRun(childRunId));
    if (child && isTerminal(child.status)) {
      if (child.status === 'completed') {
        await handle.append([
          { type: 'child.completed', payload: { op: handle.op, childRunId, result: child.result } },
        ]);
        return child.result as T;
      }
      const error = child.error ?? {
        name: 'RunCancelledError',
        message: `Run ${childRunId} was cancelled.`,
        code: 'RUN_CANCELLED',
      };
      await handle.append([
        {
          type: 'child.failed',
          payload: {
            op: handle.op,
            childRunId,
            status: child.status as 'failed' | 'cancelled' | 'timed_out',
            error,
          },
        },
      ]);
      throw new RunFailedError({ runId: childRunId, error });
    }
    return handle.block();
  }

  now(): Date {
    const op = ++this.#nextOp;
    const recorded = this.#history.take(op);
    const first = recorded[0];
    if (first) {
      if (first.type !== 'clock.read') {
        const error = new NonDeterminismError({
          runId: this.runId,
          seq: first.seq,
          expected: readableOp(describeOp(first)),
          actual: 'now()',
        });
        this.#args.replayOnly?.diverged(error, op, 'clock');
        throw error;
      }
      return new Date((first.payload as { value: string }).value);
    }
    const value = new Date(this.#args.clock());
    if (this.#args.replayOnly) this.#args.replayOnly.beyondHistory(op, 'clock', 'op');
    else this.#journal.buffer({ type: 'clock.read', payload: { op, value: value.toISOString() } });
    return value;
  }

  random(): number {
    const digest = createHash('sha256').update(`${this.runId}:random:${++this.#randomCount}`).digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  }

  uuid(): string {
    const bytes = createHash('sha256')
      .update(`${this.runId}:uuid:${++this.#uuidCount}`)
      .digest()
      .subarray(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  continueAsNew(input: unknown): Promise<never> {
    const step = stepScope.getStore();
    try {
      if (step !== undefined) throw new ContinueAsNewInStepError({ runId: this.runId, step });
      this.#checkPayload(input ?? null, `The input of the run continuing ${this.runId}`);
    } catch (error) {
      return rejected(error);
    }
    return rejected(new ContinueAsNewRequest({ runId: this.runId, input: input ?? null }));
  }

  setEvent(key: string, value: unknown): Promise<void> {
    return publishValue(this.operations, key, value);
  }

  patched(patchId: string): boolean {
    checkPatchId(patchId, 'patched');
    if (this.#deprecatedPatches.has(patchId))
      throw new PatchMisuseError({ runId: this.runId, patchId, first: 'deprecatePatch' });
    const known = this.#patches.get(patchId);
    if (known !== undefined && this.#patchOnce) return known;
    const decided = this.#patchDecision(patchId);
    this.#patches.set(patchId, decided);
    return decided;
  }

  #patchDecision(patchId: string): boolean {
    const op = this.#nextOp + 1;
    const recorded = this.#history.peek(op);
    const first = recorded[0];
    if (first) {
      if (first.type !== 'patch.marked' || (first.payload as { patchId: string }).patchId !== patchId)
        return false;
      this.#history.take(++this.#nextOp);
      return true;
    }
    // The old code ran past this point without a marker: keep to the old path.
    if (op <= this.#history.maxOp || this.#args.replayOnly?.finished) return false;
    this.#history.take(++this.#nextOp);
    if (this.#args.replayOnly) {
      this.#args.replayOnly.beyondHistory(op, `patch:${patchId}`, 'op');
      return true;
    }
    const draft: EventDraft<'patch.marked'> = { type: 'patch.marked', payload: { op, patchId } };
    this.#journal.buffer(draft);
    return true;
  }

  deprecatePatch(patchId: string): void {
    checkPatchId(patchId, 'deprecatePatch');
    if (this.#patches.has(patchId))
      throw new PatchMisuseError({ runId: this.runId, patchId, first: 'patched' });
    if (this.#deprecatedPatches.has(patchId)) return;
    this.#deprecatedPatches.add(patchId);
    // A history written while the patch was in place holds its marker here: consume it, so the ops
    // after it line up. Anywhere else (a new run, a run from before the patch), nothing to do.
    const first = this.#history.peek(this.#nextOp + 1)[0];
    if (first?.type === 'patch.marked' && (first.payload as { patchId: string }).patchId === patchId)
      this.#history.take(++this.#nextOp);
  }
}

/** A step its history settles (`step.completed` last) answers with the recorded result. */
const STEP_OPTIONS = {
  settled: <T>(recorded: readonly JournalEvent[]): T =>
    (recorded[recorded.length - 1]!.payload as { result?: T }).result as T,
};

/** The lease of a call that names no pool. */
const UNPOOLED: PoolLease = { pool: '', waitedMs: 0, reportTokens: () => {} };

/**
 * A step's `step.completed` draft, its payload's canonical JSON built from the result's (keys in
 * canonical order: attempt, name, op, result; an undefined result is left out, as canonicalJson does).
 */
export function stepCompleted(
  op: number,
  name: string,
  attempt: number,
  result: unknown,
  resultJson: string,
): EventDraft<'step.completed'> {
  const tail = result === undefined ? '' : `,"result":${resultJson}`;
  const json = `{"attempt":${attempt},"name":${JSON.stringify(name)},"op":${op}${tail}}`;
  return { type: 'step.completed', payload: withCanonicalJson({ op, name, attempt, result }, json) };
}

function stepFailed(step: string, attempts: number, error: SerializedError): StepFailedError {
  return new StepFailedError({ step, attempts, errorName: error.name, message: error.message });
}

interface ReplayGate {
  lastSeq: number;
  resolve: () => void;
  sticky?: boolean;
  ops?: number;
}

interface CancelRequest {
  reason?: string;
  by?: string;
  children?: 'cancel' | 'abandon';
}

/** An op in flight, as its scope's cancellation sees it. */
/** Events after which an op is settled for good: its recorded outcome is final. */
const SETTLING_EVENTS: ReadonlySet<string> = new Set(['step.completed', 'timer.fired', 'signal.received']);

class OpEntry implements CancellableOp {
  op: number | undefined;
  settled = false;
  cancelled = false;
  cancel: (error: CancelledError) => void = ignoreCancel;
}

/** An OpEntry's cancel before its op sets one (one function for all, not one per op). */
function ignoreCancel(): void {}

/** The CancelledError a recorded `op.cancelled` stands for. */
function cancelledError(event: JournalEvent<'op.cancelled'>): CancelledError {
  const payload = event.payload;
  return new CancelledError({
    runId: event.runId,
    scope: payload.scope,
    ...(payload.reason === undefined ? {} : { reason: payload.reason }),
    ...(payload.by === undefined ? {} : { by: payload.by }),
  });
}
