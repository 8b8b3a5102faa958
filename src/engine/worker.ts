import { hostname } from 'node:os';
import { LeaseLostError, RunCancelledError, RunPausedError } from '../errors.ts';
import type { RunRecord } from '../store/store.ts';
import {
  activate,
  WorkerStoppingError,
  type ActivationControl,
  type ActivationOutcome,
  type ExecutorDeps,
} from './executor.ts';
import { MAX_TIMER_MS } from './duration.ts';
import { newId } from './ids.ts';

export interface WorkerOptions {
  /** Runs this worker executes at once. Default 32. */
  concurrency?: number;
  /** How long a claim lasts without a heartbeat; a dead worker's runs are taken over after this. Default 15 s. */
  leaseMs?: number;
  /**
   * How often an idle worker looks for work it was not told about (other processes). Default 200 ms,
   * or 2 s when the store wakes workers itself (Store.subscribe, e.g. PostgreSQL's LISTEN/NOTIFY).
   */
  pollMs?: number;
  /** A name for this worker, in leases and logs. */
  id?: string;
}

export interface WorkerEvents {
  onOutcome?: (run: RunRecord, outcome: ActivationOutcome) => void;
}

/**
 * Claims runnable runs under a lease, executes them, and keeps the leases alive with heartbeats.
 * Many workers, in one process or many, may share one store.
 */
export class Worker {
  readonly id: string;
  readonly #deps: ExecutorDeps;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number | undefined;
  readonly #events: WorkerEvents;
  readonly #active = new Map<string, AbortController>();
  /** How to tell an activation of a cancel request, when its run handles cancellation itself. */
  readonly #controls = new Map<string, ActivationControl>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Runs claimed again while their activation was still running here. */
  readonly #reclaimed = new Set<string>();
  #running = false;
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #notified = false;
  #subscription: Promise<(() => Promise<void>) | undefined> | undefined;
  #subscribed = false;
  #startedAt = 0;
  #beatFailed = false;
  #beating: Promise<void> | undefined;

  constructor(deps: ExecutorDeps, options: WorkerOptions = {}, events: WorkerEvents = {}) {
    this.#deps = deps;
    this.id = options.id ?? newId(`worker_${hostname()}_${process.pid}`);
    this.#concurrency = options.concurrency ?? 32;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#pollMs = options.pollMs;
    this.#events = events;
  }

  get activeRuns(): number {
    return this.#active.size;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = this.#deps.clock();
    this.#beating = this.#beat();
    this.#heartbeat = setInterval(
      () => {
        void this.#renew();
        this.#beating = this.#beat();
      },
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    );
    this.#subscription = this.#subscribe();
    this.#loop = this.#run();
  }

  /** Tells the worker there may be work now (a run started or was signalled in this process). */
  notify(): void {
    this.#notified = true;
    this.#wake?.();
  }

  /**
   * Stops this worker's activation of the run now, if it runs here, with `reason` as its abort
   * reason (a RunCancelledError ends the run as cancelled). Other workers learn of a cancellation
   * from the store at their next heartbeat.
   */
  abortRun(runId: string, reason: Error): boolean {
    const controller = this.#active.get(runId);
    if (!controller || controller.signal.aborted) return false;
    const onCancel = this.#controls.get(runId)?.onCancelRequested;
    if (reason instanceof RunCancelledError && onCancel) onCancel();
    else controller.abort(reason);
    return true;
  }

  /** Stops claiming, asks running activations to release their runs, and waits for them. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#heartbeat);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const controller of this.#active.values()) controller.abort(new WorkerStoppingError());
    this.#wake?.();
    await this.#loop;
    await (
      await this.#subscription
    )?.();
    this.#subscribed = false;
    while (this.#active.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.#beating;
    await this.#deps.store.workers
      ?.remove(this.id)
      .catch((error: unknown) => this.#deps.log(`worker ${this.id}: leaving the worker list failed`, error));
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#notified = false;
      const free = this.#concurrency - this.#active.size;
      let claimed: RunRecord[] = [];
      if (free > 0) {
        try {
          claimed = await this.#deps.store.claimRuns(this.id, {
            limit: free,
            leaseMs: this.#leaseMs,
            now: this.#deps.clock(),
            workflows: [...this.#deps.workflows.keys()],
          });
        } catch (error) {
          this.#deps.log(`worker ${this.id}: claiming runs failed; retrying`, error);
        }
      }
      for (const run of claimed) this.#launch(run);
      if (claimed.length > 0 && claimed.length === free) continue;
      if (this.#notified || !this.#running) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#pollMs ?? (this.#subscribed ? 2000 : 200));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Wakes this worker on the store's wake-ups (other processes' work), when the store has them. */
  async #subscribe(): Promise<(() => Promise<void>) | undefined> {
    if (!this.#deps.store.subscribe) return undefined;
    try {
      const unsubscribe = await this.#deps.store.subscribe(() => this.notify());
      this.#subscribed = this.#running;
      return unsubscribe;
    } catch (error) {
      this.#deps.log(`worker ${this.id}: cannot subscribe to wake-ups; polling instead`, error);
      return undefined;
    }
  }

  #launch(run: RunRecord): void {
    // Our own lease expired during a stall (a long synchronous load, a GC pause) and this worker
    // claimed the run again: the activation already running keeps it, and the claim served as a
    // renewal. Starting a second activation would run the same op twice.
    if (this.#active.has(run.runId)) {
      this.#reclaimed.add(run.runId);
      return;
    }
    const controller = new AbortController();
    const control: ActivationControl = {};
    this.#active.set(run.runId, controller);
    this.#controls.set(run.runId, control);
    activate(this.#deps, run, this.id, controller, control)
      .then((outcome) => {
        if (outcome.status === 'waiting' && outcome.wakeAt !== undefined && this.#running) {
          const timer = setTimeout(
            () => {
              this.#timers.delete(timer);
              this.notify();
            },
            Math.min(MAX_TIMER_MS, Math.max(0, outcome.wakeAt - this.#deps.clock())),
          );
          this.#timers.add(timer);
        }
        this.#events.onOutcome?.(run, outcome);
      })
      .catch((error: unknown) =>
        this.#deps.log(`worker ${this.id}: run ${run.runId} stopped with an error`, error),
      )
      .finally(() => {
        this.#active.delete(run.runId);
        this.#controls.delete(run.runId);
        if (this.#reclaimed.delete(run.runId)) void this.#resumeReclaimed(run.runId);
        this.notify();
      });
  }

  /** A run claimed again while it ran here may still be leased to us: carry on with it. */
  async #resumeReclaimed(runId: string): Promise<void> {
    try {
      const run = await this.#deps.store.getRun(runId);
      if (run && run.status === 'running' && run.leaseOwner === this.id && this.#running) this.#launch(run);
    } catch (error) {
      this.#deps.log(`worker ${this.id}: resuming run ${runId} failed; its lease will expire`, error);
    }
  }

  /**
   * Tells the store's worker list (when it has one) that this worker is alive and what it runs. A
   * beat lasts one lease: a worker that stops beating is shown as gone when its runs can be taken over.
   */
  async #beat(): Promise<void> {
    const workers = this.#deps.store.workers;
    if (!workers || !this.#running) return;
    const now = this.#deps.clock();
    try {
      await workers.beat({
        workerId: this.id,
        host: hostname(),
        pid: process.pid,
        startedAt: this.#startedAt,
        concurrency: this.#concurrency,
        workflows: [...this.#deps.workflows.keys()],
        runIds: [...this.#active.keys()],
        beatAt: now,
        expiresAt: now + this.#leaseMs,
      });
      this.#beatFailed = false;
    } catch (error) {
      // Said once per spell of failures: the worker goes on running its runs.
      if (!this.#beatFailed)
        this.#deps.log(`worker ${this.id}: its heartbeat to the worker list failed`, error);
      this.#beatFailed = true;
    }
  }

  async #renew(): Promise<void> {
    if (this.#active.size === 0) return;
    try {
      const statuses = await this.#deps.store.renewLeases(
        this.id,
        [...this.#active.keys()],
        this.#leaseMs,
        this.#deps.clock(),
      );
      for (const status of statuses) {
        const controller = this.#active.get(status.runId);
        if (!controller || controller.signal.aborted) continue;
        if (!status.held) controller.abort(new LeaseLostError({ runId: status.runId, owner: this.id }));
        else if (status.cancelRequested) {
          const onCancel = this.#controls.get(status.runId)?.onCancelRequested;
          if (onCancel) onCancel();
          else controller.abort(new RunCancelledError({ runId: status.runId }));
        } else if (status.paused) controller.abort(new RunPausedError({ runId: status.runId }));
      }
    } catch (error) {
      this.#deps.log(`worker ${this.id}: renewing leases failed`, error);
    }
  }
}
