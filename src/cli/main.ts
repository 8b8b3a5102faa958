import type { ParseArgsOptionsConfig } from 'node:util';
import { BatonError } from '../errors.ts';
import type { CliContext } from './cli-context.ts';
import { UsageError, type AnyCommand, type CliIo, type OptionSpecs } from './command.ts';
import { commands, type CommandEntry } from './commands/index.ts';
import { Output } from './output.ts';
import { editDistance } from '../edit-distance.ts';

/** Options every command takes. */
const GLOBAL_OPTIONS = {
  config: {
    type: 'string',
    value: 'path',
    description: 'The config file (default: baton.config.ts here or above)',
  },
  store: {
    type: 'string',
    value: 'url',
    description: 'The store, over the config and environment (sqlite:./baton.db, postgres://…)',
  },
  json: { type: 'boolean', description: 'Print machine-readable JSON (errors too, on stderr)' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
} as const satisfies OptionSpecs;

/** Exit codes. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Runs the `baton` CLI in this process and resolves with its exit code (0 ok, 1 failure, 2 usage).
 * Pass `io` to capture output (tests) or to stop long-running commands with `io.signal`.
 *
 * @example
 * const code = await main(['runs', '--json'], { stdout: process.stdout, stderr: process.stderr });
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  io: CliIo = processIo(),
): Promise<number> {
  const env = io.env ?? process.env;
  const isTTY = io.isTTY ?? false;
  const out = new Output({
    stdout: io.stdout,
    stderr: io.stderr,
    isTTY,
    color: io.color ?? (isTTY && env.NO_COLOR === undefined),
    columns: io.columns ?? (Number(env.COLUMNS) || 100),
  });
  const jsonRequested = argv.includes('--json');
  const { name, rest } = splitCommand(argv);

  if (name === undefined || name === 'help') {
    if (argv.includes('--version')) {
      out.line(version());
      return EXIT.ok;
    }
    const topic = name === 'help' ? rest.find((arg) => !arg.startsWith('-')) : undefined;
    const entry = topic === undefined ? undefined : commands.find((candidate) => candidate.name === topic);
    if (topic !== undefined && !entry) return usageFailure(out, jsonRequested, unknownCommand(topic));
    out.line(entry ? commandHelp(await entry.load()) : generalHelp());
    const asked = name === 'help' || argv.includes('--help') || argv.includes('-h');
    return asked ? EXIT.ok : EXIT.usage;
  }

  const entry = commands.find((candidate) => candidate.name === name);
  if (!entry) return usageFailure(out, jsonRequested, unknownCommand(name));

  let context: CliContext<OptionSpecs>;
  let command: AnyCommand;
  try {
    // Only the command that runs is loaded, and what it opens (Baton, the store) only when it runs.
    command = await entry.load();
    const options = { ...GLOBAL_OPTIONS, ...command.options } as OptionSpecs;
    const { values, positionals } = parseCommandLine(command, options, rest);
    if (values.help === true) {
      out.line(commandHelp(command));
      return EXIT.ok;
    }
    const specs = command.args ?? [];
    const missing = specs.slice(positionals.length).find((spec) => spec.required);
    if (missing)
      throw new UsageError(`Missing <${missing.name}>. Usage: ${usageLine(command)}`, command.name);
    if (positionals.length > specs.length) {
      throw new UsageError(
        `Unexpected argument '${positionals[specs.length]}'. Usage: ${usageLine(command)}`,
        command.name,
      );
    }
    for (const [key, spec] of Object.entries(options)) {
      if (values[key] === undefined)
        values[key] = spec.type === 'boolean' ? false : spec.multiple ? [] : undefined;
    }
    const { CliContext } = await import('./cli-context.ts');
    context = new CliContext({
      command,
      args: Object.fromEntries(specs.map((spec, index) => [spec.name, positionals[index]])),
      options: values as never,
      json: values.json === true,
      configPath: values.config as string | undefined,
      storeFlag: values.store as string | undefined,
      out,
      cwd: io.cwd ?? process.cwd(),
      env,
      signal: io.signal,
    });
  } catch (error) {
    return reportError(out, jsonRequested, error);
  }

  try {
    const code = await command.run(context);
    return code ?? EXIT.ok;
  } catch (error) {
    return reportError(out, context.json, error);
  } finally {
    await context.close().catch((error: unknown) => reportError(out, context.json, error));
  }
}

/** The command is the first argument that is neither an option nor a global option's value. */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') break;
    if (!arg.startsWith('-')) return { name: arg, rest: [...argv.slice(0, index), ...argv.slice(index + 1)] };
    const option = arg.replace(/^--/, '');
    if (!arg.includes('=') && (option === 'config' || option === 'store')) index++;
  }
  return { name: undefined, rest: [...argv] };
}

function parseCommandLine(
  command: AnyCommand,
  options: OptionSpecs,
  args: readonly string[],
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const config: ParseArgsOptionsConfig = {};
  for (const [key, spec] of Object.entries(options)) {
    config[key] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  try {
    // Builtins read as process.getBuiltinModule: no ES module facade to build (see bin/baton.js).
    const { parseArgs } = process.getBuiltinModule('node:util');
    const parsed = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
    return {
      values: { ...parsed.values } as Record<string, string | boolean | string[] | undefined>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw error;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
    if (unknown) {
      const near = nearest(unknown.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(
        `Unknown option ${unknown} for '${command.name}'.${near ? ` Did you mean --${near}?` : ''}`,
        command.name,
      );
    }
    throw new UsageError((error as Error).message, command.name);
  }
}

function reportError(out: Output, json: boolean, error: unknown): number {
  const usage = error instanceof UsageError;
  const code = usage ? 'USAGE' : BatonError.isInstance(error) ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    out.error(JSON.stringify({ error: { code, message } }));
  } else {
    out.error(`${out.style('red', 'error:')} ${message}`);
    if (usage && error.command)
      out.error(out.style('dim', `Run 'baton ${error.command} --help' for its usage.`));
    if (!usage && !BatonError.isInstance(error) && error instanceof Error && process.env.BATON_DEBUG)
      out.error(error.stack ?? '');
  }
  return usage ? EXIT.usage : EXIT.failure;
}

function usageFailure(out: Output, json: boolean, error: UsageError): number {
  reportError(out, json, error);
  if (!json) out.error(out.style('dim', "Run 'baton help' for the list of commands."));
  return EXIT.usage;
}

function unknownCommand(name: string): UsageError {
  const near = nearest(
    name,
    commands.map((command) => command.name),
  );
  return new UsageError(`Unknown command '${name}'.${near ? ` Did you mean '${near}'?` : ''}`);
}

function nearest(word: string, candidates: readonly string[]): string | undefined {
  const ranked = candidates
    .map((candidate) => ({ candidate, distance: editDistance(word, candidate) }))
    .sort((a, b) => a.distance - b.distance);
  const best = ranked[0];
  return best && best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

// ---- help ------------------------------------------------------------------------------------

function usageLine(command: AnyCommand): string {
  const args = (command.args ?? []).map((arg) => (arg.required ? `<${arg.name}>` : `[${arg.name}]`));
  return ['baton', command.name, ...args, '[options]'].join(' ');
}

function optionLines(options: OptionSpecs): string[] {
  const entries = Object.entries(options)
    .filter(([, spec]) => !spec.hidden)
    .map(([key, spec]) => {
      const flag = `${spec.short ? `-${spec.short}, ` : ''}--${key}${spec.type === 'string' ? ` <${spec.value ?? 'value'}>` : ''}`;
      return [flag, spec.description] as const;
    });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

/** `name <args>`, as the general help lists a command. */
function entryUsage(entry: CommandEntry): string {
  return entry.args ? `${entry.name} ${entry.args}` : entry.name;
}

function generalHelp(): string {
  const width = Math.max(...commands.map((entry) => entryUsage(entry).length));
  return [
    'baton: durable, auditable workflows for AI agents',
    '',
    'Usage: baton <command> [options]',
    '',
    'Commands:',
    ...commands.map((entry) => `  ${entryUsage(entry).padEnd(width)}  ${entry.summary}`),
    '',
    'Options for every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    "Run 'baton <command> --help' for a command's options. Exit codes: 0 ok, 1 failure, 2 usage.",
  ].join('\n');
}

function commandHelp(command: AnyCommand): string {
  const lines = [`Usage: ${usageLine(command)}`, '', command.summary + '.'];
  const args = (command.args ?? []).filter((arg) => arg.description);
  if (args.length > 0) {
    lines.push('', 'Arguments:');
    const width = Math.max(...args.map((arg) => arg.name.length + 2));
    for (const arg of args) lines.push(`  ${`<${arg.name}>`.padEnd(width)}  ${arg.description}`);
  }
  if (command.options && Object.keys(command.options).length > 0)
    lines.push('', 'Options:', ...optionLines(command.options));
  lines.push('', 'Options for every command:', ...optionLines(GLOBAL_OPTIONS));
  if (command.details) lines.push('', command.details);
  return lines.join('\n');
}

function version(): string {
  const { readFileSync } = process.getBuiltinModule('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `baton ${pkg.version} (node ${process.version})`;
}

function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stdout.isTTY === true,
    ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
    cwd: process.cwd(),
    env: process.env,
  };
}

/** Runs main() for the process and exits with its code, even if something left a handle open. */
export async function runAsProcess(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const code = await main(argv);
  process.exitCode = code;
  // Everything Baton opened is closed by now; a handle left by a user's config must not hang the CLI.
  setTimeout(() => process.exit(code), 2000).unref();
}

if (import.meta.main) await runAsProcess();
