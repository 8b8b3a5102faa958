import { BatonError, type SerializedError } from '../errors.ts';
import type { PartialFailurePolicy } from '../journal/events.ts';

/** A graph definition that cannot run: thrown by `graph()` when it is defined, before any run. */
export class GraphDefinitionError extends BatonError {
  readonly graph: string;
  readonly problems: readonly string[];
  constructor(args: { graph: string; problems: readonly string[] }) {
    const list = args.problems.map((problem) => `\n  - ${problem}`).join('');
    super('GRAPH_DEFINITION', `Graph '${args.graph}' is not a valid DAG:${list}`);
    this.graph = args.graph;
    this.problems = args.problems;
  }
}

/** One or more nodes of a graph failed; nodes that depended on them did not start. */
export class GraphFailedError extends BatonError {
  readonly graph: string;
  readonly failures: Readonly<Record<string, SerializedError>>;
  constructor(args: { graph: string; failures: Record<string, SerializedError>; cause?: unknown }) {
    const list = Object.entries(args.failures)
      .map(([node, error]) => `'${node}' (${error.name}: ${error.message})`)
      .join(', ');
    super(
      'GRAPH_FAILED',
      `Graph '${args.graph}' failed at node ${list}; nodes depending on it did not start.`,
      {
        cause: args.cause,
      },
    );
    this.graph = args.graph;
    this.failures = args.failures;
  }
}

/** A `parallel` whose failed branches its partial-failure policy does not allow. */
export class ParallelFailedError extends BatonError {
  readonly parallel: string;
  readonly failures: Readonly<Record<string, SerializedError>>;
  readonly succeeded: readonly string[];
  constructor(args: {
    parallel: string;
    policy: PartialFailurePolicy;
    succeeded: readonly string[];
    failures: Record<string, SerializedError>;
    cause?: unknown;
  }) {
    const failed = Object.entries(args.failures)
      .map(([branch, error]) => `'${branch}' (${error.name}: ${error.message})`)
      .join(', ');
    super(
      'PARALLEL_FAILED',
      `Parallel '${args.parallel}' failed under policy ${describePolicy(args.policy)}: ` +
        `${args.succeeded.length} branch(es) succeeded, failed: ${failed}.`,
      { cause: args.cause },
    );
    this.parallel = args.parallel;
    this.failures = args.failures;
    this.succeeded = args.succeeded;
  }
}

/** The classifier of a `route` named no route and there is no fallback (or the classifier failed). */
export class RouteNotFoundError extends BatonError {
  readonly route: string;
  constructor(args: { route: string; reason: string; routes: readonly string[]; cause?: unknown }) {
    super(
      'ROUTE_NOT_FOUND',
      `Route '${args.route}' could not choose: ${args.reason}. Routes: ${args.routes.join(', ')}. ` +
        `Give the route a fallback to handle this.`,
      { cause: args.cause },
    );
    this.route = args.route;
  }
}

export function describePolicy(policy: PartialFailurePolicy): string {
  return typeof policy === 'string' ? `'${policy}'` : `{ minSuccesses: ${policy.minSuccesses} }`;
}

/** A state machine definition that cannot run: thrown by `machine()` when it is defined. */
export class MachineDefinitionError extends BatonError {
  readonly machine: string;
  readonly problems: readonly string[];
  constructor(args: { machine: string; problems: readonly string[] }) {
    const list = args.problems.map((problem) => `\n  - ${problem}`).join('');
    super('MACHINE_DEFINITION', `State machine '${args.machine}' cannot run:${list}`);
    this.machine = args.machine;
    this.problems = args.problems;
  }
}

/**
 * A state machine reached a state with no edge that holds: every matching edge has reached its
 * bound (`max`), or no condition held. Terminal: the machine's journaled counts say which edge.
 */
export class MachineStuckError extends BatonError {
  readonly machine: string;
  readonly state: string;
  constructor(args: { machine: string; state: string; exhausted: readonly string[] }) {
    const bound =
      args.exhausted.length > 0
        ? `: ${args.exhausted.join(', ')} reached its bound and no later edge holds`
        : ': no edge condition held';
    super(
      'MACHINE_STUCK',
      `State machine '${args.machine}' is stuck in state '${args.state}'${bound}. ` +
        `Add an edge without a condition after the bounded one (an exit for when the loop gives up).`,
    );
    this.machine = args.machine;
    this.state = args.state;
  }
}

/** A state machine entered more states than its `maxSteps`. */
export class MachineStepLimitError extends BatonError {
  constructor(args: { machine: string; maxSteps: number }) {
    super(
      'MACHINE_STEP_LIMIT',
      `State machine '${args.machine}' entered ${args.maxSteps} states without reaching a final one; ` +
        `raise maxSteps or lower the bounds of its cycles.`,
    );
  }
}
