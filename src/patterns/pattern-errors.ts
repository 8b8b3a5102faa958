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
