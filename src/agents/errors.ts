import { BatonError, type SerializedError } from '../errors.ts';

/** An agent asked the model more times than its `maxTurns` allows. The journal holds every turn. */
export class MaxTurnsExceededError extends BatonError {
  readonly agent: string;
  readonly maxTurns: number;
  constructor(args: { agent: string; maxTurns: number }) {
    super(
      'MAX_TURNS_EXCEEDED',
      `Agent '${args.agent}' did not finish within ${args.maxTurns} model calls (maxTurns). ` +
        `Every turn is in the journal; raise maxTurns or tighten the instructions.`,
    );
    this.agent = args.agent;
    this.maxTurns = args.maxTurns;
  }
}

/** The model kept calling unknown tools or passing arguments that fail their schemas. */
export class TooManyInvalidToolCallsError extends BatonError {
  readonly agent: string;
  constructor(args: { agent: string; count: number; last: string }) {
    super(
      'INVALID_TOOL_CALLS',
      `Agent '${args.agent}' made ${args.count} invalid tool calls; each went back to the model as an error, ` +
        `and it did not correct itself. The last: ${args.last}`,
    );
    this.agent = args.agent;
  }
}

/** The agent's final answer kept failing its output schema. */
export class StructuredOutputError extends BatonError {
  readonly agent: string;
  constructor(args: { agent: string; attempts: number; problem: string }) {
    super(
      'STRUCTURED_OUTPUT_INVALID',
      `Agent '${args.agent}' gave ${args.attempts} final answers that do not match its output schema. The last: ${args.problem}`,
    );
    this.agent = args.agent;
  }
}

/** An agent handed off more times than allowed in one run of `ctx.runAgent` (a ping-pong between agents). */
export class HandoffLimitError extends BatonError {
  constructor(args: { agent: string; limit: number; path: readonly string[] }) {
    super(
      'HANDOFF_LIMIT',
      `Agents handed off ${args.limit} times starting from '${args.agent}' (${args.path.join(' → ')}); stopping here.`,
    );
  }
}

/**
 * One attempt at a model call failed in a way worth retrying (HTTP 408/409/429/5xx, a broken
 * connection, a timeout). Journaled as `llm.attempt.failed`; the engine retries it with backoff,
 * waiting at least `retryAfterMs` when the provider sent Retry-After.
 */
export class ModelProviderError extends BatonError {
  readonly status: number | undefined;
  constructor(args: {
    model: string;
    status?: number;
    message: string;
    retryable: boolean;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    const status = args.status === undefined ? '' : ` (HTTP ${args.status})`;
    super('MODEL_PROVIDER_ERROR', `The provider of model '${args.model}' failed${status}: ${args.message}`, {
      cause: args.cause,
      disposition: args.retryable ? 'retryable' : 'terminal',
      ...(args.retryAfterMs === undefined ? {} : { retryAfterMs: args.retryAfterMs }),
    });
    this.status = args.status;
  }
}

/** The provider answered with something that is not a valid response (malformed JSON, wrong shape). */
export class ModelResponseError extends BatonError {
  constructor(args: { model: string; problem: string; cause?: unknown }) {
    super(
      'MODEL_RESPONSE_MALFORMED',
      `The provider of model '${args.model}' sent a malformed response: ${args.problem}. ` +
        `Check that the model id and base URL point at an API that speaks this provider's protocol.`,
      { cause: args.cause },
    );
  }
}

/** A model call that failed for good (retries exhausted or a terminal error). Catchable in workflow code. */
export class ModelCallFailedError extends BatonError {
  readonly agent: string;
  readonly attempts: number;
  readonly error: SerializedError;
  constructor(args: { agent: string; model: string; attempts: number; error: SerializedError }) {
    super(
      'MODEL_CALL_FAILED',
      `Agent '${args.agent}' could not call model '${args.model}' (${args.attempts} attempt(s)): ${args.error.message}`,
    );
    this.agent = args.agent;
    this.attempts = args.attempts;
    this.error = args.error;
  }
}

/** An interceptor (budget, policy) refused a model call. */
export class ModelCallDeniedError extends BatonError {
  /** The interceptor that denied the call (or `signal:<name>` for a person's decision). */
  readonly interceptor: string;
  readonly reason: string;
  /** The denying verdict's data, as journaled. */
  readonly data: Readonly<Record<string, unknown>> | undefined;
  constructor(args: { agent: string; interceptor: string; reason: string; data?: Record<string, unknown> }) {
    super(
      'MODEL_CALL_DENIED',
      `A model call of agent '${args.agent}' was denied by ${args.interceptor}: ${args.reason}`,
    );
    this.interceptor = args.interceptor;
    this.reason = args.reason;
    this.data = args.data;
  }
}

/** A model id string names a provider whose API key is not in the environment. */
export class MissingApiKeyError extends BatonError {
  readonly variable: string;
  constructor(args: { variable: string; model: string; agent?: string }) {
    const who = args.agent === undefined ? '' : `Agent '${args.agent}' uses `;
    super(
      'MISSING_API_KEY',
      `${who}model '${args.model}', which needs the environment variable ${args.variable}; it is not set. ` +
        `Set ${args.variable}, or pass an AI SDK LanguageModel (e.g. scriptedModel from 'baton/testing').`,
    );
    this.variable = args.variable;
  }
}

/** A model id string that no provider in the registry resolves. */
export class UnknownModelError extends BatonError {
  constructor(args: { model: string; reason: string }) {
    super('UNKNOWN_MODEL', `Cannot resolve model '${args.model}': ${args.reason}.`);
  }
}

/** A tool called directly with `callTool` failed, or was denied. */
export class ToolCallFailedError extends BatonError {
  readonly tool: string;
  constructor(args: { tool: string; message: string; code?: string }) {
    super(args.code ?? 'TOOL_CALL_FAILED', `Tool '${args.tool}' failed: ${args.message}`);
    this.tool = args.tool;
  }
}

/** A tool's result failed its output schema, or cannot be journaled. */
export class ToolOutputError extends BatonError {
  constructor(args: { tool: string; problem: string }) {
    super(
      'TOOL_OUTPUT_INVALID',
      `Tool '${args.tool}' returned a result that does not match its output schema: ${args.problem}`,
    );
  }
}

/**
 * A tripwire fired: a guardrail (or interceptor) marked as a tripwire blocked an agent's input or
 * output, or a tool call's arguments. Unlike a block, which refuses one thing (and goes back to the
 * model), a tripwire stops the agent and every agent above it: it is not turned into a tool error
 * for a calling agent, and unless the workflow catches it, it fails the run.
 */
export class TripwireTriggeredError extends BatonError {
  readonly by: string;
  readonly stage: string;
  readonly reason: string;
  constructor(args: { by: string; stage: string; reason: string; target?: string }) {
    const where = args.target === undefined ? args.stage : `${args.stage} of ${args.target}`;
    super(
      'TRIPWIRE_TRIGGERED',
      `Tripwire '${args.by}' fired on the ${where}: ${args.reason}. The agent stopped; the run fails unless the workflow catches this error.`,
    );
    this.by = args.by;
    this.stage = args.stage;
    this.reason = args.reason;
  }
}

/**
 * An agent was run (or a tool called) with a context the agents layer did not extend: a ctx made
 * outside a Baton's worker or replay. Pass the ctx your workflow function was given.
 */
export class AgentsLayerMissingError extends BatonError {
  constructor(args: { what: string }) {
    super(
      'AGENTS_LAYER_MISSING',
      `${args.what} needs the workflow's ctx as a Baton's worker or replay gives it (with the agents layer); ` +
        `this ctx has no ctx.agents. Pass the ctx your workflow function was given.`,
    );
  }
}
