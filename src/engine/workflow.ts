import { InvalidArgumentError } from '../errors.ts';
import type { WorkflowContext, WorkflowDefinition, WorkflowOptions } from './context.ts';

// The types of a workflow definition live with the context type they refer to (src/engine/context.ts).
export type {
  WorkflowDefinition,
  WorkflowInput,
  WorkflowOptions,
  WorkflowOutput,
  WorkflowQuery,
} from './context.ts';

/**
 * Defines a durable workflow whose ctx is of any context type (`Context`, the engine's own by
 * default): code-first, replayed after a crash. A workflow author writes `workflow(name, fn)` from
 * `baton`, whose ctx has every layer (src/context-layers.ts); this is what it and the patterns
 * (graphs, machines, plans) build on.
 *
 * Workflow code must be deterministic: do I/O, read the clock and draw random numbers only through
 * `ctx` (`ctx.step`, `ctx.now()`, `ctx.random()`), and await only ctx calls. On resume the function
 * runs again from the top; every ctx call that already completed returns its journaled result
 * without running again.
 *
 * @example
 * const greet = defineWorkflow('greet', async (ctx, input: { name: string }) => {
 *   const text = await ctx.step('compose', () => `Hello, ${input.name}`);
 *   await ctx.sleep('1s');
 *   return text;
 * });
 */
export function defineWorkflow<
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
