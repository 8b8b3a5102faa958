import { openStore } from '../store/open-store.ts';
import { dirname } from 'node:path';
import type { Baton, BatonOptions } from '../baton.ts';
import type { RunRecord, Store, TenantScope } from '../store/store.ts';
import {
  UsageError,
  type Command,
  type CommandContext,
  type OpenBatonOptions,
  type OptionSpecs,
  type OptionValues,
} from './command.ts';
import { displayStore, loadConfig, type LoadedConfig, type StoreSource } from './load-config.ts';
import { StoreNotFoundError } from '../errors.ts';

/** Where a store URL came from, for messages. */
const STORE_SOURCES: Record<StoreSource, string> = {
  flag: '--store',
  config: "the config's store",
  BATON_STORE: 'BATON_STORE',
  DATABASE_URL: 'DATABASE_URL',
  default: 'the default (sqlite:./baton.db beside the config, or here)',
};
import type { Output } from './output.ts';

export interface CliContextArgs<O extends OptionSpecs> {
  command: Command<O>;
  args: Record<string, string | undefined>;
  options: OptionValues<O>;
  json: boolean;
  configPath: string | undefined;
  storeFlag: string | undefined;
  out: Output;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal | undefined;
}

/** The {@link CommandContext} of one invocation; main() closes it when the command ends. */
export class CliContext<O extends OptionSpecs> implements CommandContext<O> {
  readonly command: Command<O>;
  readonly args: Readonly<Record<string, string | undefined>>;
  readonly options: OptionValues<O>;
  readonly json: boolean;
  readonly out: Output;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly #configPath: string | undefined;
  readonly #storeFlag: string | undefined;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #opened: Baton[] = [];
  /** Stores this context opened itself (read-only ones), closed after the Batons over them. */
  readonly #closeStores: (() => Promise<void>)[] = [];
  #config: Promise<LoadedConfig> | undefined;
  #configRequired = false;
  #shutdown: AbortController | undefined;
  #removeSignalHandlers: (() => void) | undefined;

  constructor(args: CliContextArgs<O>) {
    this.command = args.command;
    this.args = args.args;
    this.options = args.options;
    this.json = args.json;
    this.out = args.out;
    this.cwd = args.cwd;
    this.env = args.env;
    this.#configPath = args.configPath;
    this.#storeFlag = args.storeFlag;
    this.#callerSignal = args.signal;
    // Commands may destructure their context: `async run({ out, openBaton }) {…}`.
    this.loadConfig = this.loadConfig.bind(this);
    this.openBaton = this.openBaton.bind(this);
    this.openStore = this.openStore.bind(this);
    this.findRun = this.findRun.bind(this);
    this.parseJson = this.parseJson.bind(this);
    this.parseInteger = this.parseInteger.bind(this);
  }

  /** Created on first use, so short commands keep the default Ctrl-C behaviour. */
  get shutdown(): AbortSignal {
    if (this.#callerSignal) return this.#callerSignal;
    if (!this.#shutdown) {
      const controller = new AbortController();
      this.#shutdown = controller;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (controller.signal.aborted) {
          // A second Ctrl-C: stop now, without waiting for runs to be released.
          process.exit(130);
        }
        controller.abort(new Error(`received ${signal}`));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      this.#removeSignalHandlers = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
    }
    return this.#shutdown.signal;
  }

  loadConfig(options: { required?: boolean } = {}): Promise<LoadedConfig> {
    const required = options.required ?? false;
    if (!this.#config || (required && !this.#configRequired)) {
      this.#configRequired ||= required;
      this.#config = loadConfig({
        cwd: this.cwd,
        env: this.env,
        required,
        ...(this.#configPath === undefined ? {} : { configPath: this.#configPath }),
        ...(this.#storeFlag === undefined ? {} : { storeFlag: this.#storeFlag }),
      });
    }
    return this.#config;
  }

  async openBaton(options: OpenBatonOptions = {}): Promise<Baton> {
    const loaded = await this.loadConfig({ required: options.requireConfig ?? false });
    const config = loaded.config;
    const worker =
      options.worker === undefined || options.worker === false
        ? false
        : { ...config?.worker, ...options.worker };
    const batonOptions: BatonOptions = {
      store: loaded.store,
      workflows: config?.workflows ?? [],
      worker,
      log: (message, error) =>
        this.out.error(
          this.out.style('dim', `[baton] ${message}${error ? `: ${describeError(error)}` : ''}`),
        ),
      ...(config?.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: config.maxPayloadBytes }),
      ...(config?.pools === undefined ? {} : { pools: config.pools }),
      ...(loaded.policies === undefined ? {} : { policies: loaded.policies }),
      ...(config?.grant === undefined ? {} : { grant: config.grant }),
      ...(config?.secrets === undefined ? {} : { secrets: config.secrets }),
      ...(config?.maxDelegationDepth === undefined ? {} : { maxDelegationDepth: config.maxDelegationDepth }),
      ...(config?.maxQueuedRuns === undefined ? {} : { maxQueuedRuns: config.maxQueuedRuns }),
      ...(config?.maxQueuedRunsPerTenant === undefined
        ? {}
        : { maxQueuedRunsPerTenant: config.maxQueuedRunsPerTenant }),
      ...(config?.guard === undefined ? {} : { guard: config.guard }),
      ...(config?.telemetry === undefined ? {} : { telemetry: config.telemetry }),
      ...(config?.routing === undefined ? {} : { routing: config.routing }),
      ...(config?.agents === undefined ? {} : { agents: config.agents }),
      ...(options.onActivationEnd ? { onActivationEnd: options.onActivationEnd } : {}),
    };
    if (config?.signing && worker) {
      // Loaded only for a worker that signs: the access layer's key files.
      const { resolveSigningOptions } = await import('../access/deployment-key.ts');
      batonOptions.signing = resolveSigningOptions(
        config.signing,
        loaded.path ? dirname(loaded.path) : this.cwd,
      );
    }
    let baton: Baton;
    try {
      // Read commands open a SQLite store read-only (an auditor's copy works); none creates one.
      if (options.readOnly)
        batonOptions.store = await openStore(loaded.store, {
          readOnly: true,
          create: options.create ?? false,
        });
      // Loaded here: commands that only read the store (openStore) do not load Baton.
      const { Baton } = await import('../baton.ts');
      baton = await Baton.open({ ...batonOptions, createStore: options.create ?? false });
    } catch (error) {
      throw storeNotFound(error, loaded);
    }
    this.#opened.push(baton);
    if (options.readOnly && typeof loaded.store === 'string' && typeof batonOptions.store !== 'string') {
      const store = batonOptions.store!;
      this.#closeStores.push(() => store.close());
    }
    return baton;
  }

  async openStore(): Promise<Store> {
    const loaded = await this.loadConfig();
    if (typeof loaded.store !== 'string') return loaded.store;
    let store: Store;
    try {
      store = await openStore(loaded.store, { readOnly: true, create: false });
    } catch (error) {
      throw storeNotFound(error, loaded);
    }
    this.#closeStores.push(() => store.close());
    return store;
  }

  async findRun(baton: Baton, given: string, scope?: TenantScope): Promise<RunRecord> {
    // Loaded by the commands that look a run up, not by every command.
    const { findRun } = await import('./run-lookup.ts');
    return findRun(baton.store, given, scope);
  }

  parseJson(option: string, text: string | undefined): unknown {
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(
        `--${option} is not valid JSON (${(error as Error).message}). Quote it for the shell: --${option} '{"key": "value"}'.`,
        this.command.name,
      );
    }
  }

  parseInteger(
    option: string,
    text: string | undefined,
    bounds: { min?: number; max?: number } = {},
  ): number | undefined {
    if (text === undefined) return undefined;
    const value = Number(text);
    const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
    const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      const range = bounds.max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new UsageError(`--${option} must be a whole number ${range}, got '${text}'.`, this.command.name);
    }
    return value;
  }

  /** Closes every Baton the command opened (stopping its worker) and stops listening for signals. */
  async close(): Promise<void> {
    this.#removeSignalHandlers?.();
    const opened = this.#opened.splice(0);
    for (const baton of opened.reverse()) await baton.close();
    for (const close of this.#closeStores.splice(0)) await close();
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A store that is not there, said with where its URL came from; any other error as it is. */
function storeNotFound(error: unknown, loaded: LoadedConfig): unknown {
  if (!(error instanceof StoreNotFoundError)) return error;
  return new StoreNotFoundError({
    location: displayStore(loaded.store),
    reason: error.reason,
    hint:
      `The store came from ${STORE_SOURCES[loaded.storeSource]}. Only start, worker, server and ` +
      `migrate create a store; check the URL, or create it with 'baton migrate'.`,
    cause: error,
  });
}
