import type { Baton } from '../baton.ts';
import type { ActivationOutcome } from '../engine/executor.ts';
import type { WorkerOptions } from '../engine/worker.ts';
import type { RunRecord, Store, TenantScope } from '../store/store.ts';
import type { LoadedConfig } from './load-config.ts';
import type { Output, Writer } from './output.ts';

/**
 * A `baton` command: one file under src/cli/commands/ exporting `defineCommand({...})`, listed once
 * in src/cli/commands/index.ts. Parsing (node:util parseArgs), --help, --json, exit codes, error
 * messages and closing what the command opened are done for it.
 *
 * @example
 * export const hello = defineCommand({
 *   name: 'hello',
 *   summary: 'Greet someone',
 *   args: [{ name: 'who', required: true }],
 *   options: { loud: { type: 'boolean', description: 'Shout' } },
 *   async run({ args, options, out, json }) {
 *     const text = `Hello, ${args.who}${options.loud ? '!' : '.'}`;
 *     if (json) out.json({ text }); else out.line(text);
 *   },
 * });
 */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line for `baton help`. */
  summary: string;
  /** Positional arguments in order, e.g. `<run>` then `<name>`. */
  args?: readonly ArgumentSpec[];
  options?: O;
  /** More help text, printed after the options (examples, notes). */
  details?: string;
  /** Returns the exit code (0 when it returns nothing). Throw UsageError for bad usage (exit 2). */
  run(context: CommandContext<O>): Promise<number | void>;
}

export interface ArgumentSpec {
  name: string;
  required: boolean;
  description?: string;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The option may be given several times; its value is an array. */
  multiple?: boolean;
  /** What the value is, for help: `JSON`, `N`, `user:alice`. */
  value?: string;
  description: string;
  /** Accepted but not listed in help: an older name kept so scripts keep working. */
  hidden?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

export type OptionValues<O extends OptionSpecs> = {
  -readonly [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? string[]
      : string | undefined;
};

/** Declares a command; the `const` type parameter keeps its options' types for `context.options`. */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command<O> {
  return command;
}

export type AnyCommand = Command<any>;

/** What a command receives. */
export interface CommandContext<O extends OptionSpecs = OptionSpecs> {
  readonly command: Command<O>;
  /** Positional arguments by name (as declared in `args`). */
  readonly args: Readonly<Record<string, string | undefined>>;
  readonly options: OptionValues<O>;
  /** --json: print one JSON document (or JSON lines for a stream) and nothing else on stdout. */
  readonly json: boolean;
  readonly out: Output;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM (or when the caller's io.signal aborts): long-running commands stop gracefully. */
  readonly shutdown: AbortSignal;

  // Functions as properties, not methods: a command may destructure them from its context.
  /** The project's config and store (see load-config.ts). Cached for the command. */
  readonly loadConfig: (options?: { required?: boolean }) => Promise<LoadedConfig>;
  /**
   * Opens Baton on the project's store with its workflows. No worker unless asked for. Closed when
   * the command ends.
   */
  readonly openBaton: (options?: OpenBatonOptions) => Promise<Baton>;
  /**
   * Opens the project's store read-only, without Baton: for commands that only read runs and
   * journals, which then load nothing above the store. Closed when the command ends.
   */
  readonly openStore: () => Promise<Store>;
  /** The run a person means (exact id or unambiguous prefix), or RunNotFoundError with near matches. */
  readonly findRun: (baton: Baton, given: string, scope?: TenantScope) => Promise<RunRecord>;

  /** Parses a JSON option value; a UsageError names the option when it is not JSON. */
  readonly parseJson: (option: string, text: string | undefined) => unknown;
  /** Parses an integer option value within bounds; a UsageError names the option otherwise. */
  readonly parseInteger: (
    option: string,
    text: string | undefined,
    bounds?: { min?: number; max?: number },
  ) => number | undefined;
}

export interface OpenBatonOptions {
  /** Run a worker in this process, with these options over the config's `worker`. Default: none. */
  worker?: WorkerOptions | false;
  /** Fail when there is no baton.config.ts (commands that run or start workflows). Default false. */
  requireConfig?: boolean;
  /**
   * Create the store when it is not there (start, worker, server). Default false: a store URL that
   * names nothing fails with StoreNotFoundError, so a mistyped --store never creates a database.
   */
  create?: boolean;
  onActivationEnd?: (run: RunRecord, outcome: ActivationOutcome) => void;
  /** Open the store for reading only (commands that only read: a read-only copy of a store works). */
  readOnly?: boolean;
}

/** The streams and surroundings of one CLI invocation. Tests pass buffers; the binary passes the process's. */
export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  /** stdout is a terminal: live progress and colours. Default false. */
  isTTY?: boolean;
  /** Colours; default: isTTY and no NO_COLOR in env. */
  color?: boolean;
  /** The terminal's width; default: stdout's when a terminal, else COLUMNS, else 100. */
  columns?: number;
  cwd?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Stops long-running commands (worker, a following start) as SIGINT would. Without it, main listens
   * for SIGINT/SIGTERM while such a command runs.
   */
  signal?: AbortSignal;
}

/** Bad usage: unknown option, missing argument, a value that does not parse. Exit code 2. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}
