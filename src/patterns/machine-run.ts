import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { serializeErrorWithoutStack } from '../errors.ts';
import { edgeKey, type Machine, type MachineResult, type MachineStep } from './machine-types.ts';
import { MachineStepLimitError, MachineStuckError } from './pattern-errors.ts';
import { isNonDeterminism, outcomeDiverged, recordedEvent, reserveOperation } from './runnable.ts';

/**
 * Runs a state machine inside a workflow, one journaled step per state entered.
 *
 * Ops: the machine's own (`machine:<name>`: started, completed or failed), then for every state
 * entered a container op (`machine:<name>`: the state entered, and the edge taken) followed by the ops
 * of the state's work. The next state is only known once an edge is taken, so ops are taken one
 * step at a time; on replay the journaled edge is taken (conditions are not evaluated again), and a
 * step whose journaled state is another one is a NonDeterminismError.
 */
export async function runMachine<Input, Context extends WorkflowContext>(
  machine: Machine<Input, Context>,
  ctx: Context,
  input: Input,
): Promise<MachineResult> {
  const op = await reserveOperation(ctx, `machine:${machine.name}`);
  if (!recordedEvent(op, 'machine.started')) {
    op.buffer({
      type: 'machine.started',
      payload: {
        op: op.op,
        name: machine.name,
        initial: machine.initial,
        edges: [...machine.edges.values()].flat().map((edge) => ({
          from: edge.from,
          to: edge.to,
          ...(edge.max === undefined ? {} : { max: edge.max }),
        })),
      },
    });
  }
  const counts: Record<string, number> = {};
  const visits = new Map<string, number>();
  const outputs: Record<string, unknown> = {};
  const path: string[] = [];
  let state = machine.initial;
  let previous: unknown;
  let from: string | undefined;

  const fail = async (at: string, error: unknown): Promise<never> => {
    if (!isNonDeterminism(error) && !recordedEvent(op, 'machine.failed', 'machine.completed')) {
      const serialized = serializeErrorWithoutStack(error);
      await op.append([
        {
          type: 'machine.failed',
          payload: {
            op: op.op,
            name: machine.name,
            state: at,
            steps: path.length,
            edges: { ...counts },
            error: serialized,
          },
        },
      ]);
    }
    throw error;
  };

  for (;;) {
    if (path.length >= machine.maxSteps)
      await fail(state, new MachineStepLimitError({ machine: machine.name, maxSteps: machine.maxSteps }));
    const stepOp = await reserveOperation(ctx, `machine:${machine.name}`);
    const visit = (visits.get(state) ?? 0) + 1;
    visits.set(state, visit);
    path.push(state);
    const entered = recordedEvent(stepOp, 'machine.state.entered');
    if (entered && entered.payload.state !== state)
      throw outcomeDiverged(ctx, entered, `state '${entered.payload.state}' entered`, `state '${state}'`);
    if (!entered) {
      stepOp.buffer({
        type: 'machine.state.entered',
        payload: { op: stepOp.op, name: machine.name, state, visit, step: path.length },
      });
    }
    const step: MachineStep<Input> = { input, previous, from, visit, outputs: { ...outputs } };
    const spec = machine.states.get(state)!;
    let output: unknown;
    try {
      output = spec.run ? await spec.run(ctx, step) : previous;
    } catch (error) {
      return fail(state, error);
    }
    outputs[state] = output;

    const out = machine.edges.get(state)!;
    if (out.length === 0) {
      if (!recordedEvent(op, 'machine.completed', 'machine.failed')) {
        await op.append([
          {
            type: 'machine.completed',
            payload: {
              op: op.op,
              name: machine.name,
              final: state,
              steps: path.length,
              edges: { ...counts },
            },
          },
        ]);
      }
      return { final: state, output, path, edges: counts };
    }

    let next: { to: string; reason: string };
    try {
      next = await transition(machine, ctx, stepOp, state, output, step, counts);
    } catch (error) {
      return fail(state, error);
    }
    const key = edgeKey(state, next.to);
    counts[key] = (counts[key] ?? 0) + 1;
    if (!recordedEvent(stepOp, 'machine.transitioned')) {
      stepOp.buffer({
        type: 'machine.transitioned',
        payload: {
          op: stepOp.op,
          name: machine.name,
          from: state,
          to: next.to,
          taken: counts[key],
          step: path.length,
          reason: next.reason,
        },
      });
    }
    previous = output;
    from = state;
    state = next.to;
  }
}

/** The edge to take: the journaled one on replay, else the first that holds and is within its bound. */
async function transition<Input, Context extends WorkflowContext>(
  machine: Machine<Input, Context>,
  ctx: Context,
  stepOp: OperationHandle,
  state: string,
  output: unknown,
  step: MachineStep<Input>,
  counts: Readonly<Record<string, number>>,
): Promise<{ to: string; reason: string }> {
  const out = machine.edges.get(state)!;
  const recorded = recordedEvent(stepOp, 'machine.transitioned');
  if (recorded) {
    const { to, reason } = recorded.payload;
    if (!out.some((edge) => edge.to === to))
      throw outcomeDiverged(
        ctx,
        recorded,
        `edge ${state} → ${to}`,
        `edges to ${out.map((edge) => edge.to).join(', ')}`,
      );
    return { to, reason };
  }
  const exhausted: string[] = [];
  for (const edge of out) {
    const taken = counts[edgeKey(state, edge.to)] ?? 0;
    if (edge.max !== undefined && taken >= edge.max) {
      exhausted.push(`${state} → ${edge.to} (max ${edge.max})`);
      continue;
    }
    if (edge.when && !(await edge.when(output, step))) continue;
    const why = edge.when ? 'its condition held' : 'it has no condition';
    const bound = edge.max === undefined ? '' : ` (${taken + 1} of at most ${edge.max})`;
    const after = exhausted.length > 0 ? `; ${exhausted.join(', ')} reached its bound` : '';
    return { to: edge.to, reason: `${why}${bound}${after}` };
  }
  throw new MachineStuckError({ machine: machine.name, state, exhausted });
}
