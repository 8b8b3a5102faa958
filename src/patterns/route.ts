import type { StepInfo, StepOptions, WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError, serializeError } from '../errors.ts';
import type { JournalEventPayloads } from '../journal/events.ts';
import { RouteNotFoundError } from './pattern-errors.ts';
import {
  checkName,
  isAgent,
  outcomeDiverged,
  recordedEvent,
  reserveOperation,
  runAgentBranch,
  runRunnable,
  type AgentLike,
  type Runnable,
} from './runnable.ts';

/** What a classifier answers: a route's name, or the name with its reason and scores. */
export type RouteAnswer = string | { route: string; reason?: string; scores?: Record<string, number> };

/** A classifier that runs as a journaled step (with the step's retries and idempotency key). */
export interface StepClassifier<Input> {
  step: string;
  run(input: Input, info: StepInfo): RouteAnswer | Promise<RouteAnswer>;
  options?: StepOptions;
}

/**
 * What chooses the route:
 * - a function `(input) => answer`: runs once, live; its answer is journaled with the decision, and
 *   on replay the journaled decision is used without calling it again;
 * - a step `{ step, run }`: runs as `ctx.step`, so it is retried and its result journaled;
 * - an agent: asked (through `ctx.runAgent`) to name one route, given each route's description.
 */
export type Classifier<Input> =
  ((input: Input) => RouteAnswer | Promise<RouteAnswer>) | StepClassifier<Input> | AgentLike;

/** A route: a runnable, or a runnable with the description an agent classifier reads. */
export type RouteTarget<Context extends WorkflowContext, Input, Output> =
  Runnable<Context, Input, Output> | { description: string; run: Runnable<Context, Input, Output> };

export interface RouteOptions<Context extends WorkflowContext, Input, Output> {
  /** The route's name in the journal. Default `route`. */
  name?: string;
  input: Input;
  classify: Classifier<Input>;
  routes: Record<string, RouteTarget<Context, Input, Output>>;
  /** Taken when the answer names no route: a route's name, or a target of its own (journaled as `fallback`). */
  fallback?: string | RouteTarget<Context, Input, Output>;
}

type Candidate = JournalEventPayloads['route.decided']['candidates'][number];
type Decision =
  | {
      ok: true;
      chosen: string;
      reason: string;
      answer?: unknown;
      fallback?: boolean;
      candidates: Candidate[];
    }
  | { ok: false; reason: string; answer?: unknown; candidates: Candidate[] };

/**
 * Classifies the input, then runs the chosen route with it and returns that route's output.
 *
 * Journals `route.decided` (the chosen route, the candidates, what decided and why) before the
 * route runs, and `route.failed` when nothing could be chosen (then throws RouteNotFoundError).
 * On replay the journaled decision is taken as it is: a function classifier is not called again,
 * and a step or agent classifier returns its journaled result; the same route runs again as
 * workflow code, its completed ctx calls answered from the journal.
 *
 * @example
 * const reply = await route(ctx, {
 *   input: ticket,
 *   classify: triage,                               // an agent, a function or { step, run }
 *   routes: { billing: billingAgent, tech: techAgent },
 *   fallback: 'tech',
 * });
 */
export async function route<
  Output = unknown,
  Input = unknown,
  Context extends WorkflowContext = WorkflowContext,
>(ctx: Context, options: RouteOptions<Context, Input, Output>): Promise<Output> {
  const name = checkName(options.name ?? 'route', 'A route');
  const targets = resolveTargets(name, options);
  const op = await reserveOperation(ctx, `route:${name}`);
  const recorded = recordedEvent(op, 'route.decided', 'route.failed');
  const classifier = options.classify;
  const decidedBy =
    typeof classifier === 'function'
      ? 'function'
      : isAgent(classifier)
        ? `agent:${classifier.name}`
        : `step:${classifier.step}`;

  let decision: Decision;
  if (recorded?.type === 'route.decided') {
    // Step and agent classifiers are ctx calls: they replay (answered from the journal) so the ops
    // after them keep their numbers. Their answer is the one already decided on.
    if (typeof classifier !== 'function') await classify(ctx, classifier, options.input, targets);
    const { chosen, reason, candidates } = recorded.payload;
    if (!targets.has(chosen)) {
      throw outcomeDiverged(
        ctx,
        recorded,
        `route '${name}' to '${chosen}'`,
        `routes ${[...targets.keys()].join(', ')}`,
      );
    }
    decision = { ok: true, chosen, reason, candidates };
  } else if (recorded?.type === 'route.failed') {
    // The classifier may have failed for good: on replay it fails the same way, from the journal.
    if (typeof classifier !== 'function')
      await classify(ctx, classifier, options.input, targets).catch(() => undefined);
    decision = { ok: false, reason: recorded.payload.reason, candidates: recorded.payload.candidates };
  } else {
    let answer: RouteAnswer;
    try {
      answer = await classify(ctx, classifier, options.input, targets);
    } catch (error) {
      const reason = `the classifier failed: ${(error as Error).message ?? String(error)}`;
      await op.append([
        {
          type: 'route.failed',
          payload: {
            op: op.op,
            name,
            candidates: candidates(targets),
            reason,
            decidedBy,
            error: serializeError(error),
          },
        },
      ]);
      throw new RouteNotFoundError({ route: name, reason, routes: [...targets.keys()], cause: error });
    }
    decision = decide(answer, targets, options.fallback !== undefined);
    const extra = {
      decidedBy,
      ...(decision.answer === undefined ? {} : { answer: decision.answer }),
    };
    if (decision.ok) {
      await op.append([
        {
          type: 'route.decided',
          payload: {
            op: op.op,
            name,
            chosen: decision.chosen,
            candidates: decision.candidates,
            reason: decision.reason,
            ...extra,
            ...(decision.fallback ? { fallback: true } : {}),
          },
        },
      ]);
    } else {
      await op.append([
        {
          type: 'route.failed',
          payload: { op: op.op, name, candidates: decision.candidates, reason: decision.reason, ...extra },
        },
      ]);
    }
  }
  if (!decision.ok)
    throw new RouteNotFoundError({ route: name, reason: decision.reason, routes: [...targets.keys()] });
  return runRunnable(ctx, targets.get(decision.chosen)!.run, options.input);
}

interface Target<Context extends WorkflowContext, Input, Output> {
  description: string | undefined;
  run: Runnable<Context, Input, Output>;
  fallback: boolean;
}

function resolveTargets<Context extends WorkflowContext, Input, Output>(
  name: string,
  options: RouteOptions<Context, Input, Output>,
): Map<string, Target<Context, Input, Output>> {
  const { routes, fallback, classify: classifier } = options;
  if (typeof routes !== 'object' || routes === null || Object.keys(routes).length === 0) {
    throw new InvalidArgumentError(`Route '${name}' needs at least one route.`);
  }
  const isClassifier =
    typeof classifier === 'function' ||
    isAgent(classifier) ||
    (typeof classifier === 'object' &&
      classifier !== null &&
      typeof classifier.run === 'function' &&
      typeof classifier.step === 'string');
  if (!isClassifier) {
    throw new InvalidArgumentError(
      `Route '${name}' needs a classifier: a function, an agent or { step, run }.`,
    );
  }
  const targets = new Map<string, Target<Context, Input, Output>>();
  for (const [key, target] of Object.entries(routes)) {
    targets.set(checkName(key, `Route '${name}': a route`), resolveTarget(name, key, target, false));
  }
  if (typeof fallback === 'string') {
    const target = targets.get(fallback);
    if (!target) {
      throw new InvalidArgumentError(
        `Route '${name}' falls back to '${fallback}', which is not one of its routes (${[...targets.keys()].join(', ')}).`,
      );
    }
    target.fallback = true;
  } else if (fallback !== undefined) {
    if (targets.has('fallback')) {
      throw new InvalidArgumentError(
        `Route '${name}' has a route named 'fallback' and a fallback target; rename one.`,
      );
    }
    targets.set('fallback', resolveTarget(name, 'fallback', fallback, true));
  }
  return targets;
}

function resolveTarget<Context extends WorkflowContext, Input, Output>(
  name: string,
  key: string,
  target: RouteTarget<Context, Input, Output>,
  fallback: boolean,
): Target<Context, Input, Output> {
  if (typeof target === 'function') return { description: undefined, run: target, fallback };
  if (isAgent(target)) return { description: target.description, run: target, fallback };
  if (
    typeof target === 'object' &&
    target !== null &&
    (typeof target.run === 'function' || isAgent(target.run))
  ) {
    return { description: target.description, run: target.run, fallback };
  }
  throw new InvalidArgumentError(
    `Route '${key}' of '${name}' is not a function, an agent or { description, run }.`,
  );
}

function candidates(
  targets: Map<string, Target<any, any, any>>,
  scores?: Record<string, number>,
): Candidate[] {
  return [...targets.keys()].map((name) =>
    scores && typeof scores[name] === 'number' ? { name, score: scores[name] } : { name },
  );
}

async function classify<Input>(
  ctx: WorkflowContext,
  classifier: Classifier<Input>,
  input: Input,
  targets: Map<string, Target<any, any, any>>,
): Promise<RouteAnswer> {
  if (typeof classifier === 'function') return classifier(input);
  if (isAgent(classifier)) {
    const output = await runAgentBranch(ctx, classifier, { task: agentTask(targets), context: input });
    return agentAnswer(output, targets);
  }
  return ctx.step(classifier.step, (info) => classifier.run(input, info), classifier.options);
}

function agentTask(targets: Map<string, Target<any, any, any>>): string {
  const lines = [...targets].map(
    ([name, target]) => `- ${name}${target.description ? `: ${target.description}` : ''}`,
  );
  return (
    `Choose the one route that should handle the request given as context.\nRoutes:\n${lines.join('\n')}\n` +
    `Answer with the route's name only.`
  );
}

/** An agent's answer: structured `{ route, reason }`, or text naming exactly one route. */
function agentAnswer(output: unknown, targets: Map<string, Target<any, any, any>>): RouteAnswer {
  if (
    typeof output === 'object' &&
    output !== null &&
    typeof (output as { route?: unknown }).route === 'string'
  ) {
    return output as RouteAnswer;
  }
  const text = typeof output === 'string' ? output.trim() : JSON.stringify(output ?? null);
  const exact = [...targets.keys()].find((name) => name.toLowerCase() === text.toLowerCase());
  if (exact) return exact;
  const named = [...targets.keys()].filter((name) =>
    new RegExp(`(^|[^A-Za-z0-9_.:-])${escapeRegExp(name)}($|[^A-Za-z0-9_:-])`, 'i').test(text),
  );
  if (named.length === 1) return { route: named[0]!, reason: `the classifier answered "${clip(text)}"` };
  return text;
}

function decide(
  answer: RouteAnswer,
  targets: Map<string, Target<any, any, any>>,
  hasFallback: boolean,
): Decision {
  const structured = typeof answer === 'object' && answer !== null;
  const asked = structured ? answer.route : typeof answer === 'string' ? answer.trim() : undefined;
  const list = candidates(targets, structured ? answer.scores : undefined);
  if (asked !== undefined && targets.has(asked)) {
    const reason = structured && answer.reason ? answer.reason : `the classifier chose '${asked}'`;
    return { ok: true, chosen: asked, reason, candidates: list, ...(structured ? { answer } : {}) };
  }
  const said = `the classifier answered ${JSON.stringify(asked ?? answer ?? null)}, which names no route`;
  if (hasFallback) {
    const fallback = [...targets].find(([, target]) => target.fallback)![0];
    return {
      ok: true,
      chosen: fallback,
      reason: `${said}; took the fallback '${fallback}'`,
      answer,
      fallback: true,
      candidates: list,
    };
  }
  return { ok: false, reason: said, answer, candidates: list };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}
