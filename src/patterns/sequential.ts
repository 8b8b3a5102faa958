import type { WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError, serializeError } from '../errors.ts';
import {
  checkName,
  isAgent,
  recordedEvent,
  reserveOperation,
  runnableName,
  runRunnable,
  type Runnable,
} from './runnable.ts';

/** A stage of a sequence: a runnable, or a runnable with the name the journal gives it. */
export type Stage<Context extends WorkflowContext = WorkflowContext> =
  Runnable<Context, any, any> | { name: string; run: Runnable<Context, any, any> };

export interface SequentialOptions {
  /** The sequence's name in the journal. Default `sequence`. */
  name?: string;
}

/**
 * Runs stages one after another, each receiving the previous one's output (the first receives
 * `input`), and returns the last output. A stage is workflow code `(ctx, input) => …` or an agent
 * (run with `ctx.runAgent`; a string input is its task).
 *
 * Journals the plan (`sequence.started`, the stage names in order) and how it ended
 * (`sequence.completed`, or `sequence.failed` naming the stage and its error). A failing stage's
 * error is rethrown as it is. On replay every stage runs again as workflow code: its ctx calls
 * return their journaled results, so no completed step or model call runs twice.
 *
 * @example
 * const article = await sequential(ctx, [researcher, writer, { name: 'format', run: (ctx, draft) => ctx.step('format', () => format(draft)) }], input.topic);
 */
export async function sequential<Output = unknown, Context extends WorkflowContext = WorkflowContext>(
  ctx: Context,
  stages: readonly Stage<Context>[],
  input?: unknown,
  options: SequentialOptions = {},
): Promise<Output> {
  const name = checkName(options.name ?? 'sequence', 'A sequence');
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new InvalidArgumentError(`Sequence '${name}' needs at least one stage.`);
  }
  const plan = stages.map((stage, index) => resolveStage(stage, index, name));
  const op = await reserveOperation(ctx, `sequence:${name}`);
  const ended = recordedEvent(op, 'sequence.completed', 'sequence.failed');
  if (!recordedEvent(op, 'sequence.started')) {
    op.buffer({
      type: 'sequence.started',
      payload: { op: op.op, name, stages: plan.map((stage) => stage.name) },
    });
  }
  let value: unknown = input;
  for (const stage of plan) {
    try {
      value = await runRunnable(ctx, stage.run, value);
    } catch (error) {
      if (!ended) {
        await op.append([
          {
            type: 'sequence.failed',
            payload: { op: op.op, name, stage: stage.name, error: serializeError(error) },
          },
        ]);
      }
      throw error;
    }
  }
  if (!ended) await op.append([{ type: 'sequence.completed', payload: { op: op.op, name } }]);
  return value as Output;
}

function resolveStage<Context extends WorkflowContext>(
  stage: Stage<Context>,
  index: number,
  sequence: string,
): { name: string; run: Runnable<Context, any, any> } {
  if (typeof stage === 'function' || isAgent(stage))
    return { name: runnableName(stage, `stage-${index + 1}`), run: stage };
  if (
    typeof stage === 'object' &&
    stage !== null &&
    (typeof stage.run === 'function' || isAgent(stage.run))
  ) {
    return {
      name: checkName(stage.name, `Stage ${index + 1} of sequence '${sequence}': the`),
      run: stage.run,
    };
  }
  throw new InvalidArgumentError(
    `Stage ${index + 1} of sequence '${sequence}' is not a function, an agent or { name, run }.`,
  );
}
