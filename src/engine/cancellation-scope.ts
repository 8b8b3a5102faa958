import { AsyncLocalStorage } from 'node:async_hooks';
import { BatonError } from '../errors.ts';

/**
 * Raised at a workflow's awaits when the run, or a cancellation scope around them, is cancelled.
 * Catch it to clean up (do durable cleanup inside `ctx.nonCancellable`); let it escape the
 * workflow and the run ends as cancelled.
 *
 * @example
 * try {
 *   await ctx.waitFor('payment');
 * } catch (error) {
 *   if (CancelledError.isInstance(error)) await ctx.nonCancellable(() => ctx.step('release-hold', release));
 *   throw error;
 * }
 */
export class CancelledError extends BatonError {
  /** `run`: the run was cancelled (`baton.cancel`); `scope`: workflow code cancelled a scope. */
  readonly scope: 'run' | 'scope';
  readonly reason: string | undefined;
  /** Who cancelled the run (`baton.cancel(…, { as })`), when known. */
  readonly by: string | undefined;

  constructor(args: { runId: string; scope: 'run' | 'scope'; reason?: string; by?: string }) {
    const what =
      args.scope === 'run' ? `Run ${args.runId} was cancelled` : 'A cancellation scope was cancelled';
    super('CANCELLED', `${what}${args.by ? ` by ${args.by}` : ''}${args.reason ? `: ${args.reason}` : ''}.`, {
      disposition: 'terminal',
    });
    this.scope = args.scope;
    this.reason = args.reason;
    this.by = args.by;
  }
}

/**
 * A part of a workflow that can be cancelled as a whole. Ops (steps, timers, waits, children, agent
 * calls) belong to the scope they were called in; cancelling a scope raises CancelledError at each
 * of its ops in flight and at every op called in it afterwards, and cancels the cancellable scopes
 * inside it. The run itself is the outermost scope.
 */
export interface CancellationScope {
  /** True once the scope (or, for a cancellable scope, one around it) was cancelled. */
  readonly cancelled: boolean;
  /** Aborted when the scope is cancelled (or the worker loses the run): pass it to outside calls. */
  readonly signal: AbortSignal;
  /**
   * Cancels this scope. Deterministic: it is workflow code, so a replay cancels at the same point.
   * Ops in flight are journaled as cancelled (`op.cancelled`), a child run awaited in the scope is
   * asked to cancel (unless it was started with `parentClose: 'abandon'`).
   */
  cancel(reason?: string): void;
}

/** An op in flight that a scope's cancellation must reach. */
export interface CancellableOp {
  cancel(error: CancelledError): void;
}

/** The engine's scope: a tree rooted at the run, walked when a cancellation comes. */
export class Scope implements CancellationScope {
  readonly runId: string;
  readonly parent: Scope | undefined;
  /** The run's scope, at the top of the tree. */
  readonly root: Scope;
  /** False for a `nonCancellable` scope: cancellation around it does not reach inside. */
  readonly shielded: boolean;
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #children = new Set<Scope>();
  readonly #ops = new Set<CancellableOp>();
  #error: CancelledError | undefined;

  constructor(args: { runId: string; parent?: Scope; shielded?: boolean; abort: AbortSignal }) {
    this.runId = args.runId;
    this.parent = args.parent;
    this.root = args.parent?.root ?? this;
    this.shielded = args.shielded ?? false;
    const outer = this.parent && !this.shielded ? this.parent.signal : args.abort;
    this.signal = AbortSignal.any([outer, this.#controller.signal]);
    if (this.parent) {
      this.parent.#children.add(this);
      if (!this.shielded && this.parent.#error) this.cancelWith(this.parent.#error);
    }
  }

  get cancelled(): boolean {
    return this.#error !== undefined;
  }

  /** The error ops of this scope are cancelled with, once it is cancelled. */
  get error(): CancelledError | undefined {
    return this.#error;
  }

  cancel(reason?: string): void {
    this.cancelWith(
      new CancelledError({ runId: this.runId, scope: 'scope', ...(reason === undefined ? {} : { reason }) }),
    );
  }

  cancelWith(error: CancelledError): void {
    if (this.#error) return;
    this.#error = error;
    this.#controller.abort(error);
    for (const op of [...this.#ops]) op.cancel(error);
    for (const child of [...this.#children]) if (!child.shielded) child.cancelWith(error);
  }

  add(op: CancellableOp): void {
    this.#ops.add(op);
  }

  remove(op: CancellableOp): void {
    this.#ops.delete(op);
  }

  /** Detaches a finished scope from its parent. */
  close(): void {
    if (this.parent) this.parent.#children.delete(this);
  }
}

/** The scope the workflow code is running in (propagated through its awaits). */
export const currentScope = new AsyncLocalStorage<Scope>();
