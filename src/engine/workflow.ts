import { InvalidArgumentError } from '../errors.ts';
import type { WorkflowContext } from './context.ts';
import type { Duration } from './duration.ts';
import type { InputSchema } from './input-schema.ts';
import type { WorkflowQuery } from './published-values.ts';

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

/**
 * Defines a durable workflow: code-first, replayed after a crash.
 *
 * Workflow code must be deterministic: do I/O, read the clock and draw random numbers only through
 * `ctx` (`ctx.step`, `ctx.now()`, `ctx.random()`), and await only ctx calls. On resume the function
 * runs again from the top; every ctx call that already completed returns its journaled result
 * without running again.
 *
 * @example
 * const greet = workflow('greet', async (ctx, input: { name: string }) => {
 *   const text = await ctx.step('compose', () => `Hello, ${input.name}`);
 *   await ctx.sleep('1s');
 *   return text;
 * });
 */
export function workflow<
  Input = unknown,
  Output = unknown,
  Context extends WorkflowContext = WorkflowContext,
>(
  name: string,
  fn: (ctx: Context, input: Input) => Promise<Output>,
  options: WorkflowOptions = {},
): WorkflowDefinition<Input, Output, Context> {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) {
    throw new InvalidArgumentError(
      `Workflow name '${name}' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'.`,
    );
  }
  if (typeof fn !== 'function') throw new InvalidArgumentError(`Workflow '${name}' needs a function.`);
  return Object.freeze({ kind: 'workflow' as const, name, options, fn });
}

export type WorkflowInput<W> = W extends WorkflowDefinition<infer I, any, any> ? I : never;
export type WorkflowOutput<W> = W extends WorkflowDefinition<any, infer O, any> ? O : never;
