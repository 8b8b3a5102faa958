import { EventEmitter } from 'node:events';
import {
  InvalidArgumentError,
  PayloadTooLargeError,
  RunFailedError,
  RunNotFoundError,
  UnknownWorkflowError,
} from './errors.ts';
import { canonicalJson } from './journal/canonical-json.ts';
import { JOURNAL_FORMAT, type JournalEvent } from './journal/events.ts';
import { GENESIS_HASH, sealEvent } from './journal/hash-chain.ts';
import { Committer } from './engine/committer.ts';
import type { RunContext, ChildStartRequest } from './engine/context-impl.ts';
import { toMilliseconds, type Duration } from './engine/duration.ts';
import { ENGINE_FLAGS } from './engine/engine-flags.ts';
import type { ExecutorDeps } from './engine/executor.ts';
import { newId } from './engine/ids.ts';
import { Worker, type WorkerOptions } from './engine/worker.ts';
import type { WorkflowDefinition, WorkflowInput, WorkflowOutput } from './engine/workflow.ts';
import { openStore } from './store/open-store.ts';
import { isTerminal, type RunFilter, type RunRecord, type Store } from './store/store.ts';

export interface BatonOptions {
  /** A store URL (`sqlite:./baton.db`, `postgres://…`) or a Store. Default: BATON_STORE, else `sqlite:./baton.db`. */
  store?: string | Store;
  workflows?: readonly WorkflowDefinition<any, any, any>[];
  /** Options of the worker this process runs, or false to run none (a client only). */
  worker?: WorkerOptions | false;
  /** The clock, in epoch ms. Inject one in tests. */
  clock?: () => number;
  /** The largest input, step result or signal payload journaled, in bytes. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Retry delays up to this long are waited in memory; longer ones park the run. Default 2 s. */
  inlineRetryMs?: number;
  /** Where the engine reports problems it recovers from. Default: stderr. */
  log?: (message: string, error?: unknown) => void;
  /** Wraps each run's context with the layers above the engine. */
  extendContext?: (ctx: RunContext) => RunContext;
}

export interface StartOptions {
  /** The principal the run acts for: `user:alice`, `service:billing`. Default `user:anonymous`. */
  as?: string;
  tenant?: string;
  /** Starting again with the same key (in the tenant) returns the same run. */
  idempotencyKey?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Fail the run if it has not finished within this time. Overrides the workflow's own timeout. */
  timeout?: Duration;
  metadata?: Record<string, unknown>;
}

/** A handle on one run. */
export interface RunHandle<Output = unknown> {
  readonly runId: string;
  /** False when an idempotency key matched a run that already existed. */
  readonly created: boolean;
  /** Waits for the run to finish; resolves with its result, or rejects with RunFailedError. */
  result(options?: { timeout?: Duration }): Promise<Output>;
  get(): Promise<RunRecord>;
  history(): Promise<JournalEvent[]>;
}

/**
 * The entry point: opens a store, registers workflows, starts runs and (unless told not to) runs
 * a worker in this process.
 *
 * @example
 * const baton = await Baton.open({ store: 'sqlite:./baton.db', workflows: [greet] });
 * const run = await baton.start(greet, { name: 'Ada' }, { as: 'user:alice', idempotencyKey: 'greet-ada' });
 * console.log(await run.result());
 * await baton.close();
 */
export class Baton {
  readonly store: Store;
  readonly workflows = new Map<string, WorkflowDefinition>();
  readonly worker: Worker | undefined;
  readonly committer: Committer;
  readonly clock: () => number;
  readonly maxPayloadBytes: number;
  readonly #ownsStore: boolean;
  readonly #finished = new EventEmitter();

  private constructor(store: Store, ownsStore: boolean, options: BatonOptions) {
    this.store = store;
    this.#ownsStore = ownsStore;
    this.clock = options.clock ?? Date.now;
    this.maxPayloadBytes = options.maxPayloadBytes ?? 1024 * 1024;
    this.committer = new Committer(store, this.clock);
    this.#finished.setMaxListeners(0);
    for (const definition of options.workflows ?? []) this.register(definition);
    const log = options.log ?? ((message: string, error?: unknown) => console.error(`[baton] ${message}`, error ?? ''));
    const deps: ExecutorDeps = {
      store,
      committer: this.committer,
      workflows: this.workflows,
      clock: this.clock,
      maxPayloadBytes: this.maxPayloadBytes,
      inlineRetryMs: options.inlineRetryMs ?? 2000,
      startChild: (request) => this.#startChild(request),
      log,
      ...(options.extendContext ? { extendContext: options.extendContext } : {}),
    };
    if (options.worker !== false) {
      this.worker = new Worker(deps, options.worker ?? {}, {
        onOutcome: (run, outcome) => {
          if (outcome.status === 'completed' || outcome.status === 'failed' || outcome.status === 'cancelled') {
            this.#finished.emit(run.runId);
          }
        },
      });
    }
  }

  static async open(options: BatonOptions = {}): Promise<Baton> {
    const given = options.store ?? process.env.BATON_STORE ?? 'sqlite:./baton.db';
    const store = await openStore(given);
    const baton = new Baton(store, typeof given === 'string', options);
    baton.worker?.start();
    return baton;
  }

  /** Registers a workflow so this process's worker can run it. */
  register(definition: WorkflowDefinition<any, any, any>): void {
    const existing = this.workflows.get(definition.name);
    if (existing && existing !== definition) {
      throw new InvalidArgumentError(`Two different workflows are named '${definition.name}'.`);
    }
    this.workflows.set(definition.name, definition as WorkflowDefinition);
  }

  #definition(workflow: WorkflowDefinition | string): WorkflowDefinition {
    if (typeof workflow !== 'string') {
      this.register(workflow);
      return workflow;
    }
    const definition = this.workflows.get(workflow);
    if (!definition) throw new UnknownWorkflowError({ name: workflow, known: [...this.workflows.keys()] });
    return definition;
  }

  /**
   * Starts a run. The input is validated (JSON, size) before anything is written; the run and its
   * `run.started` event are written in one transaction. With an idempotency key already used, the
   * existing run is returned and nothing is written.
   */
  async start<W extends WorkflowDefinition<any, any, any>>(
    workflow: W | string,
    input: WorkflowInput<W>,
    options: StartOptions = {},
  ): Promise<RunHandle<WorkflowOutput<W>>> {
    const definition = this.#definition(workflow as WorkflowDefinition | string);
    const runId = newId('run', this.clock());
    const { run, created } = await this.#create(definition, input, runId, options, undefined);
    if (created) this.worker?.notify();
    return this.handle(run.runId, created);
  }

  async #create(
    definition: WorkflowDefinition,
    input: unknown,
    runId: string,
    options: StartOptions,
    parent: RunRecord | undefined,
  ): Promise<{ run: RunRecord; created: boolean }> {
    const encoded = canonicalJson(input ?? null, `The input of workflow '${definition.name}'`);
    const bytes = Buffer.byteLength(encoded);
    if (bytes > this.maxPayloadBytes) {
      throw new PayloadTooLargeError({ what: `The input of workflow '${definition.name}'`, bytes, limit: this.maxPayloadBytes });
    }
    const principal = options.as ?? parent?.principal ?? 'user:anonymous';
    if (!/^[a-z][a-z0-9_-]*:.+$/.test(principal)) {
      throw new InvalidArgumentError(`A principal reads 'kind:name' (user:alice, service:cron), got '${principal}'.`);
    }
    const timeout = options.timeout ?? definition.options.timeout;
    const timeoutMs = timeout === undefined ? undefined : toMilliseconds(timeout, 'run timeout');
    const now = this.clock();
    const started = sealEvent<'run.started'>({
      runId,
      seq: 1,
      type: 'run.started',
      at: new Date(now).toISOString(),
      actor: principal,
      onBehalfOf: parent ? [`workflow:${parent.workflow}`, parent.principal] : [],
      payload: {
        workflow: definition.name,
        input: input ?? null,
        format: JOURNAL_FORMAT,
        flags: [...ENGINE_FLAGS],
        ...(parent ? { parentRunId: parent.runId } : {}),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      },
      prevHash: GENESIS_HASH,
    });
    return this.store.createRun(
      {
        runId,
        workflow: definition.name,
        tenant: options.tenant ?? parent?.tenant ?? 'default',
        principal,
        input: input ?? null,
        createdAt: now,
        ...(parent ? { parentRunId: parent.runId } : {}),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
        ...(options.priority === undefined ? {} : { priority: options.priority }),
        ...(timeoutMs === undefined ? {} : { deadlineAt: now + timeoutMs }),
        ...(options.metadata ? { metadata: options.metadata } : {}),
      },
      started,
    );
  }

  async #startChild(request: ChildStartRequest): Promise<string> {
    const runId = newId('run', this.clock());
    const { run } = await this.#create(
      request.workflow,
      request.input,
      runId,
      {
        idempotencyKey: request.idempotencyKey,
        ...(request.options.priority === undefined ? {} : { priority: request.options.priority }),
        ...(request.options.timeout === undefined ? {} : { timeout: request.options.timeout }),
      },
      request.parent,
    );
    this.worker?.notify();
    return run.runId;
  }

  handle<Output = unknown>(runId: string, created = false): RunHandle<Output> {
    return {
      runId,
      created,
      result: (options) => this.result<Output>(runId, options),
      get: () => this.getRun(runId),
      history: () => this.store.readEvents(runId),
    };
  }

  async getRun(runId: string): Promise<RunRecord> {
    const run = await this.store.getRun(runId);
    if (!run) throw new RunNotFoundError({ runId, suggestions: await this.store.findRunIds(runId.slice(0, 8), 3) });
    return run;
  }

  listRuns(filter?: RunFilter): Promise<RunRecord[]> {
    return this.store.listRuns(filter);
  }

  /** Waits until the run finishes. Resolves with its result; rejects with RunFailedError if it failed or was cancelled. */
  async result<Output = unknown>(runId: string, options: { timeout?: Duration; pollMs?: number } = {}): Promise<Output> {
    const run = await this.waitFor(runId, options);
    if (run.status === 'completed') return run.result as Output;
    throw new RunFailedError({
      runId,
      error: run.error ?? { name: 'RunCancelledError', message: `Run ${runId} was cancelled.`, code: 'RUN_CANCELLED' },
    });
  }

  /** Waits until the run is finished (completed, failed or cancelled) and returns it. */
  async waitFor(runId: string, options: { timeout?: Duration; pollMs?: number } = {}): Promise<RunRecord> {
    const deadline = options.timeout === undefined ? Infinity : Date.now() + toMilliseconds(options.timeout);
    for (;;) {
      const run = await this.getRun(runId);
      if (isTerminal(run.status)) return run;
      if (Date.now() >= deadline) {
        throw new InvalidArgumentError(`Run ${runId} is still ${run.status} after the wait's timeout.`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(options.pollMs ?? 250, deadline - Date.now()));
        this.#finished.once(runId, done);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#finished.removeAllListeners(runId);
    }
  }

  /** Sends a signal to a run. It is kept until the run's `ctx.waitFor(name)` consumes it. */
  async signal(runId: string, name: string, payload?: unknown, options: { as?: string; tenant?: string } = {}): Promise<void> {
    const bytes = Buffer.byteLength(canonicalJson(payload ?? null, `The payload of signal '${name}'`));
    if (bytes > this.maxPayloadBytes) {
      throw new PayloadTooLargeError({ what: `The payload of signal '${name}'`, bytes, limit: this.maxPayloadBytes });
    }
    await this.store.sendSignal(
      { signalId: newId('sig', this.clock()), runId, name, payload, sentBy: options.as ?? 'user:anonymous', sentAt: this.clock() },
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    this.worker?.notify();
  }

  /** Cancels a run and, through it, its children. In-flight steps see their abort signal fire. */
  async cancel(runId: string, options: { reason?: string; tenant?: string } = {}): Promise<void> {
    await this.store.requestCancel(
      runId,
      options.reason,
      this.clock(),
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    this.worker?.notify();
  }

  /** Stops this process's worker (releasing its runs) and closes the store if Baton opened it. */
  async close(): Promise<void> {
    await this.worker?.stop();
    if (this.#ownsStore) await this.store.close();
  }
}
