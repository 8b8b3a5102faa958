import type { z } from 'zod';
import { zod } from '../lazy-module.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { RetryPolicy } from '../engine/retry.ts';

/**
 * What a tool does to the world, which decides what happens when a call is in doubt (a crash
 * between its journaled intent and its journaled result):
 * - `read`: no side effect; the call simply runs again;
 * - `write`: changes something; runs again only when the tool is `idempotent` (it honours
 *   `toolCtx.idempotencyKey`), otherwise the run parks until a person resolves the call;
 * - `irreversible`: as `write`, and the kind of call guards and approvals look at first.
 */
export type ToolEffect = 'read' | 'write' | 'irreversible';

export const TOOL_EFFECTS: readonly ToolEffect[] = ['read', 'write', 'irreversible'];

/** What a tool's `execute` receives besides its validated arguments. */
export interface ToolContext {
  /**
   * The same for every attempt of this call and after a crash (`<runId>:<op>`). Pass it to the
   * outside system (payment API, ledger, queue) so a call that runs again applies its effect once.
   */
  readonly idempotencyKey: string;
  readonly runId: string;
  /** The agent performing the call (`agent:billing`). */
  readonly actor: string;
  /** The chain the agent acts for, nearest first, ending with the run's principal. */
  readonly onBehalfOf: readonly string[];
  /** Aborted when the run is cancelled, the call times out, or the worker loses the run. */
  readonly signal: AbortSignal;
  /** Credentials scoped to the acting identity. They never reach a model or the journal. */
  readonly secrets: SecretReader;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface SecretReader {
  get(name: string): Promise<string | undefined>;
}

export interface ToolOptions<Input, Output> {
  /** Letters, digits, `_`, `-` and `.`; 1–64 characters (`payments.refund`). */
  name: string;
  /** What the tool does, for the model. */
  description: string;
  /** The arguments' schema. Arguments are validated before anything runs or is journaled as intent. */
  input: z.ZodType<Input>;
  /** When given, the result is validated too; a result that fails it fails the call. */
  output?: z.ZodType<Output>;
  effect: ToolEffect;
  /** True when `execute` honours `toolCtx.idempotencyKey`, so running it again after a crash is safe. */
  idempotent?: boolean;
  /** How failed attempts are retried. Default: one attempt (a tool error goes back to the model). */
  retry?: RetryPolicy;
  /**
   * The resource pool (baton.config.ts `pools`) each attempt holds a slot of while it runs; HTTP
   * errors it throws are classified there (429 waits for Retry-After, 5xx retries, other 4xx do not).
   * A pool that is not configured fails the agent (or `callTool`) at its first use.
   */
  pool?: string;
  /**
   * Argument fields kept out of the journal (`['card.number', 'apiKey']`; `*` for any key or index):
   * `tool.requested`, rewritten arguments and, when a model wrote the call, the model's reply carry
   * `[redacted]` there. The tool still receives the real arguments. A call whose real arguments are
   * gone (a model's call resumed in a later activation: after a park, a long retry wait or a crash)
   * is not run again; it fails, or parks in doubt for a person.
   */
  redact?: readonly string[];
  /** Result fields replaced by `[redacted]` before the result reaches the model, the journal or `callTool`'s caller. */
  redactResult?: readonly string[];
  /** The secrets `execute` reads (`toolCtx.secrets.get(name)`): an agent's default needs include `secret:<name>`. */
  secrets?: readonly string[];
  execute: (args: Input, context: ToolContext) => Output | Promise<Output>;
}

/** A tool, frozen. Create with {@link tool}. */
export interface ToolDefinition<Input = any, Output = any> {
  readonly kind: 'tool';
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  readonly output: z.ZodType<Output> | undefined;
  readonly effect: ToolEffect;
  readonly idempotent: boolean;
  readonly retry: RetryPolicy | undefined;
  readonly pool: string | undefined;
  readonly redact: readonly string[];
  readonly redactResult: readonly string[];
  readonly secrets: readonly string[];
  /** The input schema as JSON Schema, as offered to a model. */
  readonly jsonSchema: Record<string, unknown>;
  readonly execute: (args: Input, context: ToolContext) => Output | Promise<Output>;
}

export type ToolInput<T> = T extends ToolDefinition<infer I, any> ? I : never;
export type ToolOutput<T> = T extends ToolDefinition<any, infer O> ? O : never;

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Defines a tool an agent can call. The definition is checked now (name, effect, schemas) and
 * frozen. Every call is journaled: its intent (`tool.requested`) before it runs, then its result
 * (`tool.called`) or failure (`tool.failed`).
 *
 * Failure semantics: arguments that fail `input` never run and go back to the model as a tool
 * error. After a crash between intent and result the call is in doubt: see {@link ToolEffect}.
 *
 * @example
 * const refund = tool({
 *   name: 'payments.refund',
 *   description: 'Refund a charge',
 *   input: zod().object({ chargeId: zod().string(), cents: z.number().int().positive() }),
 *   effect: 'irreversible',
 *   idempotent: true,
 *   execute: async ({ chargeId, cents }, { idempotencyKey }) => payments.refund(chargeId, cents, { idempotencyKey }),
 * });
 */
export function tool<Input, Output>(options: ToolOptions<Input, Output>): ToolDefinition<Input, Output> {
  const { name } = options;
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw new InvalidArgumentError(
      `Tool name '${String(name)}' must be 1–64 characters of letters, digits, '_', '-' or '.'.`,
    );
  }
  if (typeof options.description !== 'string' || options.description.trim() === '') {
    throw new InvalidArgumentError(
      `Tool '${name}' needs a description: it is what the model reads to choose it.`,
    );
  }
  if (!TOOL_EFFECTS.includes(options.effect)) {
    throw new InvalidArgumentError(
      `Tool '${name}' has effect '${String(options.effect)}'; use one of ${TOOL_EFFECTS.join(', ')}.`,
    );
  }
  if (!isZodSchema(options.input)) {
    throw new InvalidArgumentError(`Tool '${name}' needs a zod schema as its input (zod().object({ … })).`);
  }
  if (options.output !== undefined && !isZodSchema(options.output)) {
    throw new InvalidArgumentError(`Tool '${name}' has an output that is not a zod schema.`);
  }
  const redact = checkPaths(name, 'redact', options.redact);
  const redactResult = checkPaths(name, 'redactResult', options.redactResult);
  const secrets = checkPaths(name, 'secrets', options.secrets);
  if (typeof options.execute !== 'function') {
    throw new InvalidArgumentError(`Tool '${name}' needs an execute(args, toolCtx) function.`);
  }
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = zod().toJSONSchema(options.input, { io: 'input', unrepresentable: 'any' });
  } catch (error) {
    throw new InvalidArgumentError(
      `Tool '${name}' has an input schema with no JSON Schema form: ${(error as Error).message}`,
    );
  }
  delete jsonSchema.$schema;
  if (jsonSchema.type !== 'object') {
    throw new InvalidArgumentError(`Tool '${name}' must take an object (zod().object({ … })) as its input.`);
  }
  return Object.freeze({
    kind: 'tool' as const,
    name,
    description: options.description,
    input: options.input,
    output: options.output,
    effect: options.effect,
    idempotent: options.idempotent ?? false,
    retry: options.retry,
    pool: options.pool,
    redact,
    redactResult,
    secrets,
    jsonSchema: Object.freeze(jsonSchema),
    execute: options.execute,
  });
}

export function isToolDefinition(value: unknown): value is ToolDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'tool';
}

function checkPaths(tool: string, option: string, paths: readonly string[] | undefined): readonly string[] {
  if (paths === undefined) return Object.freeze([]);
  if (!Array.isArray(paths) || !paths.every((path) => typeof path === 'string' && path.trim() !== '')) {
    throw new InvalidArgumentError(
      `Tool '${tool}' has ${option} that is not a list of names ('card.number').`,
    );
  }
  return Object.freeze([...paths]);
}

function isZodSchema(value: unknown): value is z.ZodType {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}
