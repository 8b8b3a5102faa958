import { EventEmitter } from 'node:events';
import {
  ConfigError,
  InvalidArgumentError,
  NestingTooDeepError,
  PayloadTooLargeError,
  RunCancelledError,
  RunFailedError,
  RunNotFoundError,
  RunNotResumableError,
  RunPausedError,
  RunWaitTimeoutError,
  UnknownWorkflowError,
} from './errors.ts';
import { canonicalJson, MAX_JSON_DEPTH, nestsDeeperThan } from './journal/canonical-json.ts';
import { JOURNAL_FORMAT, type JournalEvent } from './journal/events.ts';
import { GENESIS_HASH, sealEvent } from './journal/hash-chain.ts';
import { Committer } from './engine/committer.ts';
import type { ChildStartRequest } from './engine/context-impl.ts';
import type { ContextLayer, ContextLayers } from './engine/context-layer.ts';
import { toMilliseconds, type Duration } from './engine/duration.ts';
import { ENGINE_FLAGS } from './engine/engine-flags.ts';
import type { ActivationOutcome, ExecutorDeps } from './engine/executor.ts';
import { newId } from './engine/ids.ts';
import { successorOf } from './engine/continue-as-new.ts';
import {
  UnknownQueryError,
  checkEventKey,
  readPublishedValues,
  waitForPublishedValue,
  type PublishedValue,
} from './engine/published-values.ts';
import { checkSignalKey, signalReceipt, type SignalReceipt } from './engine/signal-delivery.ts';
import type { Worker, WorkerOptions } from './engine/worker.ts';
import { checkInput } from './engine/input-schema.ts';
import type { ResumeInPlaceOptions } from './engine/resume-run.ts';
import type { WorkflowDefinition, WorkflowInput, WorkflowOutput } from './engine/workflow.ts';
import type { CheckpointSigner, SigningOptions } from './access/checkpoint-signer.ts';
import type { AccessControl, AccessOptions, GrantSpec } from './access/access-control.ts';
import { parseGrant, type Grant } from './access/grant.ts';
import {
  isTerminal,
  type AdmissionBound,
  type RunFilter,
  type RunRecord,
  type Store,
} from './store/store.ts';
import { resolveAdmission, resolvePools, type PoolsConfig } from './resources/pool-config.ts';
import type { PoolScheduler } from './resources/pool-scheduler.ts';
import type { InDoubtCall } from './agents/in-doubt.ts';
import type { AgentRuntime, AgentsOptions } from './agents/runtime.ts';
import type { LiveStreams, StreamsOptions } from './live-streams.ts';
import type { RunStreamPart } from './engine/run-stream-parts.ts';
import type { InDoubtResolution } from './agents/tool-call.ts';
import type { Guard, GuardOptions } from './guard/guard.ts';
import type {
  ApprovalReceipt,
  ApprovalsQuery,
  ApproveOptions,
  DenyOptions,
  PendingApproval,
} from './approvals/approval-desk.ts';
import type { GrantRecord, GuardVerdictRecord } from './journal/events.ts';
import type { ForkOptions } from './explain/fork.ts';
import type { ReplayOptions, ReplayReport } from './explain/replay.ts';
import type { BatonTelemetry, TelemetryOptions } from './telemetry/telemetry.ts';
import type { CapabilityRegistry } from './routing/capability-registry.ts';
import type { RoutingOptions } from './agents/agent-capabilities.ts';
import type { AgentContext } from './workflow.ts';
import type { contextLayers, installAccess } from './context-layers.ts';

/**
 * Baton's options. Access control (src/access/access-control.ts): `policies` (Cedar files or a
 * PolicyEngine; with them, default deny on every tool call, handoff and child start), `grant` (the
 * default grant of runs), `secrets` (a ScopedSecretBroker or its sources) and `maxDelegationDepth`.
 * Without policies and grants, nothing is authorized: runs behave as they would without access.
 */
export interface BatonOptions extends AccessOptions {
  /** A store URL (`sqlite:./baton.db`, `postgres://…`) or a Store. Default: BATON_STORE, else `sqlite:./baton.db`. */
  store?: string | Store;
  /**
   * Create the store a URL names when it is not there (default true). False: StoreNotFoundError,
   * and nothing is created (tools that only read runs, such as the CLI's read commands).
   */
  createStore?: boolean;
  workflows?: readonly WorkflowDefinition<any, any, any>[];
  /** Options of the worker this process runs, or false to run none (a client only). */
  worker?: WorkerOptions | false;
  /** The clock, in epoch ms. Inject one in tests. */
  clock?: () => number;
  /** The largest input, step result or signal payload journaled, in bytes. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * The deepest nesting (objects and arrays) of a run input, signal payload or run metadata; deeper
   * is refused with NESTING_TOO_DEEP before anything is journaled. Default 64, at most 1000.
   */
  maxDepth?: number;
  /** Retry delays up to this long are waited in memory; longer ones park the run. Default 2 s. */
  inlineRetryMs?: number;
  /** Where the engine reports problems it recovers from. Default: stderr. */
  log?: (message: string, error?: unknown) => void;
  /**
   * Context layers of the application's own, put on every run's context on top of Baton's (access,
   * agents, guard, routing; see src/context-layers.ts), by the worker and by replay alike.
   */
  layers?: readonly ContextLayer<AgentContext, object>[];
  /** The agents layer: interceptors, model providers, prices, secrets, live streaming. */
  agents?: AgentsOptions;
  /** Live run streams: retention of ephemeral parts, reader limits (docs/guide/live-streams.md). */
  streams?: StreamsOptions;
  /** Called when this process's worker ends an activation of a run (finished, parked, released, lost). */
  onActivationEnd?: (run: RunRecord, outcome: ActivationOutcome) => void;
  /**
   * Signs runs' chain heads with the deployment's Ed25519 key as they finish (and periodically while
   * long runs go on), for `baton verify` and audit bundles: `{}` keeps the key in `.baton/keys/`
   * (created on first use), `{ keyFile }` names it. Needs a store with checkpoints. Default: off.
   */
  signing?: SigningOptions;
  /** Connections this Baton closes when it closes, after its worker stops: MCP servers (`mcp(…)`), … */
  connections?: readonly { close(): unknown }[];
  /**
   * Named resource pools steps, model calls and tools wait in, with limits that hold across every
   * worker process sharing the store: `{ openai: { concurrency: 8, requestsPerMinute: 500,
   * tokensPerMinute: 200_000 }, search: { concurrency: 4 } }`. See src/resources/pool-config.ts.
   */
  pools?: PoolsConfig;
  /** Bounded admission: `start` fails fast with OverloadedError while this many runs are pending. */
  maxQueuedRuns?: number;
  /** The same bound per tenant. */
  maxQueuedRunsPerTenant?: number;
  /** Guardrails, budgets, loop detection and approval gates (src/guard/guard.ts). Off until configured. */
  guard?: GuardOptions;
  /**
   * OpenTelemetry spans and metrics, derived from journal events as they are committed (see
   * src/telemetry/telemetry.ts): a tracer and meter, or OTLP export. Default: the global SDK when the
   * application registered one, else OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else none.
   */
  telemetry?: TelemetryOptions | false;
  /**
   * Capability routing: the agents and tools `ctx.route` chooses among (kept in the store), the
   * embedder (default: the built-in offline word vectors), and options every route starts from
   * (`{ defaults: { fallback: 'generalist' } }`). With it, or with `agents.memory`, workflows
   * typed `AgentContext & RoutingContext` have `ctx.route` and `ctx.memory`.
   */
  routing?: RoutingOptions;
}

export interface StartOptions {
  /** The principal the run acts for: `user:alice`, `service:billing`. Default `user:anonymous`. */
  as?: string;
  tenant?: string;
  /** Starting again with the same key (in the tenant) returns the same run. */
  idempotencyKey?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Fail the run if it has not finished within this time. Overrides the workflow's own timeout. */
  timeout?: Duration;
  /** Free-form data kept with the run. `grant` is reserved: it holds the run's grant. */
  metadata?: Record<string, unknown>;
  /**
   * The grant the run acts under: a Grant of the run's tenant (`createGrant`), or a spec
   * (`{ actions: ['tool:search.*', 'secret:stripe.key'], ttl: '1h' }`) issued to `as` in `tenant`.
   * Default: the Baton's `grant` policy, else none. Journaled in `run.started`; every agent, handoff,
   * child run and parallel agent branch acts under it narrowed to what it needs. An expired grant,
   * or one of another tenant, is refused here.
   */
  grant?: Grant | GrantSpec;
}

/** A handle on one run. */
export interface RunHandle<Output = unknown> {
  readonly runId: string;
  /** False when an idempotency key matched a run that already existed. */
  readonly created: boolean;
  /** Waits for the run to finish; resolves with its result, or rejects with RunFailedError. */
  result(options?: { timeout?: Duration }): Promise<Output>;
  get(): Promise<RunRecord>;
  history(): Promise<JournalEvent[]>;
  /**
   * The run's live stream: journal events and the deltas of work in flight (model tokens,
   * progress), from `after` (a part's cursor) on, then live until the run finishes.
   *
   * @example for await (const part of run.stream()) if (part.type === 'text-delta') process.stdout.write(part.delta);
   */
  stream(options?: { after?: string; signal?: AbortSignal }): AsyncGenerator<RunStreamPart, void, undefined>;
}

/**
 * The entry point: opens a store, registers workflows, starts runs and (unless told not to) runs
 * a worker in this process.
 *
 * @example
 * const baton = await Baton.open({ store: 'sqlite:./baton.db', workflows: [greet] });
 * const run = await baton.start(greet, { name: 'Ada' }, { as: 'user:alice', idempotencyKey: 'greet-ada' });
 * console.log(await run.result());
 * await baton.close();
 */
export class Baton {
  readonly store: Store;
  readonly workflows = new Map<string, WorkflowDefinition>();
  readonly worker: Worker | undefined;
  readonly #committer: Committer;
  readonly clock: () => number;
  readonly maxPayloadBytes: number;
  readonly maxDepth: number;
  readonly #ownsStore: boolean;
  readonly #connections: readonly { close(): unknown }[];
  readonly #finished = new EventEmitter();
  /** The agents layer: `baton.agents.onStream(listener)` for live tokens, `intercept(…)` to add interceptors. */
  readonly agents: AgentRuntime;
  /** Live run streams: `baton.stream(runId)`, and the writer of this process's runs' deltas. */
  readonly streams: LiveStreams;
  /** Resource pools: `stats()` (queue depth, waits, in flight, utilization), `configure(pools)`, `subscribe(listener)`. */
  readonly pools: PoolScheduler;
  readonly #admission: AdmissionBound | undefined;
  /** The guard layer: guardrails, budgets, loop detection, approvals (`approve`, `deny`, `approvals`). */
  readonly guard: Guard;
  /** Access control: the policies (if any), run grants, the secret broker (src/access/access-control.ts). */
  readonly access: AccessControl;
  readonly #extraLayers: readonly ContextLayer<AgentContext, object>[];
  readonly #contextLayers: typeof contextLayers;
  #routing: CapabilityRegistry | undefined;
  readonly #routingDefaults: RoutingOptions['defaults'];
  #signer: CheckpointSigner | undefined;
  #telemetry: BatonTelemetry | undefined;

  private constructor(
    store: Store,
    ownsStore: boolean,
    options: BatonOptions,
    access: AccessControl,
    parts: BatonParts,
  ) {
    const { LiveStreams, AgentRuntime, PoolScheduler, Guard, Worker, installAccess } = parts;
    this.#contextLayers = parts.contextLayers;
    this.store = store;
    this.#ownsStore = ownsStore;
    this.#connections = [...(options.connections ?? [])];
    this.clock = options.clock ?? Date.now;
    this.maxPayloadBytes = options.maxPayloadBytes ?? 1024 * 1024;
    this.maxDepth = options.maxDepth ?? 64;
    if (!Number.isInteger(this.maxDepth) || this.maxDepth < 1 || this.maxDepth > MAX_JSON_DEPTH) {
      throw new ConfigError(
        `maxDepth is a whole number from 1 to ${MAX_JSON_DEPTH}, got ${String(options.maxDepth)}.`,
      );
    }
    const log =
      options.log ?? ((message: string, error?: unknown) => console.error(`[baton] ${message}`, error ?? ''));
    this.streams = new LiveStreams(store, options.streams, { clock: this.clock, log });
    this.#committer = new Committer(store, this.clock, {
      onCommitted: (writes) => {
        this.streams.onCommitted(writes);
        this.#telemetry?.record(writes);
      },
    });
    this.#extraLayers = options.layers ?? [];
    this.#routingDefaults = options.routing?.defaults;
    this.access = access;
    const secrets = access.secrets?.forAgents(undefined, this.clock);
    this.agents = new AgentRuntime(
      { ...(secrets ? { secrets } : {}), ...options.agents },
      { vectorRecords: store.vectorRecords },
    );
    installAccess(this.agents, access);
    if (this.streams.sink) this.agents.onStream((event) => this.streams.onModelStream(event));
    this.#finished.setMaxListeners(0);
    this.pools = new PoolScheduler({
      store,
      ...(options.pools ? { pools: options.pools } : {}),
      clock: this.clock,
      inlineWaitMs: options.inlineRetryMs ?? 2000,
      log,
      onSlotFreed: () => this.worker?.notify(),
    });
    this.agents.assertPool = (pool, where) => this.pools.assertPool(pool, where);
    this.#admission = resolveAdmission(options);
    if (this.#admission && !store.pools) {
      throw new ConfigError(
        `maxQueuedRuns needs a store that enforces it (the store capability 'pools'); the store at ${store.location} does not.`,
      );
    }
    this.guard = new Guard(options.guard, {
      agents: this.agents,
      clock: this.clock,
      storeLocation: store.location,
      budgetStore: store.budgets,
      desk: {
        getRun: (runId, scope) => this.getRun(runId, scope ?? {}),
        readEvents: (runId) => store.readEvents(runId),
        pendingSignals: (runId) => store.pendingSignals(runId),
        sendSignal: async (signal, scope) => {
          await store.sendSignal(signal, scope);
          this.worker?.notify();
        },
        listRuns: (filter) => store.listRuns(filter),
        ...(store.pendingApprovals ? { pendingApprovals: (query) => store.pendingApprovals!(query) } : {}),
      },
    });
    for (const definition of options.workflows ?? []) this.register(definition);
    const deps: ExecutorDeps = {
      store,
      committer: this.#committer,
      workflows: this.workflows,
      clock: this.clock,
      maxPayloadBytes: this.maxPayloadBytes,
      inlineRetryMs: options.inlineRetryMs ?? 2000,
      startChild: (request) => this.#startChild(request),
      startSuccessor: (run, input) => this.#startSuccessor(run, input),
      pools: this.pools,
      onCancelRequested: (runId, reason) => this.#cancelLocally(runId, reason),
      log,
      onActivate: (run) => this.#telemetry?.activate(run.runId, run.workflow, this.clock()),
      layers: () => this.#layers(),
      ...(this.streams.sink ? { stream: this.streams.sink } : {}),
    };
    // Loaded unless `worker: false`.
    if (Worker && options.worker !== false) {
      this.worker = new Worker(deps, options.worker ?? {}, {
        onOutcome: (run, outcome) => {
          this.streams.onActivationEnd(run.runId);
          options.onActivationEnd?.(run, outcome);
          this.#signer?.onActivationEnd(run, outcome);
          if (
            outcome.status === 'completed' ||
            outcome.status === 'failed' ||
            outcome.status === 'cancelled' ||
            outcome.status === 'continued' ||
            outcome.status === 'timed_out'
          ) {
            this.#finished.emit(run.runId);
          }
        },
      });
    }
  }

  static async open(options: BatonOptions = {}): Promise<Baton> {
    const given = options.store ?? process.env.BATON_STORE ?? 'sqlite:./baton.db';
    // Checked at the door, before the store is opened: pools, admission, access (policies are loaded).
    resolvePools(options.pools);
    resolveAdmission(options);
    const clock = options.clock ?? Date.now;
    // What only opening needs is loaded here, not when Baton is imported.
    const { AccessControl } = await import('./access/access-control.ts');
    const access = await AccessControl.open(options, { clock });
    const { openStore } = await import('./store/open-store.ts');
    const store = await openStore(given, { create: options.createStore ?? true });
    let baton: Baton;
    try {
      const parts = await loadParts(options);
      baton = new Baton(store, typeof given === 'string', options, access, parts);
    } catch (error) {
      if (typeof given === 'string') await store.close();
      throw error;
    }
    if (options.routing) {
      try {
        const { openRouting } = await import('./agents/agent-capabilities.ts');
        baton.#routing = await openRouting(options.routing, store.vectorRecords, options.log);
      } catch (error) {
        if (typeof given === 'string') await store.close();
        throw error;
      }
    }
    if (options.signing) {
      try {
        const { CheckpointSigner } = await import('./access/checkpoint-signer.ts');
        baton.#signer = await CheckpointSigner.open(store, {
          clock: baton.clock,
          ...(options.log ? { log: options.log } : {}),
          ...(baton.worker ? { workerId: baton.worker.id } : {}),
          ...options.signing,
        });
      } catch (error) {
        if (typeof given === 'string') await store.close();
        throw error;
      }
      baton.#signer.start();
    }
    try {
      const { openTelemetry } = await import('./telemetry/telemetry.ts');
      baton.#telemetry = await openTelemetry(options.telemetry, process.env, baton.pools);
    } catch (error) {
      await baton.#signer?.stop();
      if (typeof given === 'string') await store.close();
      throw error;
    }
    baton.worker?.start();
    if (baton.worker) baton.streams.startPruning();
    return baton;
  }

  /** How many journal writes this process committed, in how many transactions (group commit). */
  get commitStats(): { readonly writes: number; readonly transactions: number } {
    return { ...this.#committer.stats };
  }

  /** The capability index of `ctx.route` (from the `routing` option): `register` more at any time. */
  get routing(): CapabilityRegistry | undefined {
    return this.#routing;
  }

  /** The one list of context layers (src/context-layers.ts), as this Baton's parts make it now. */
  #layers(): ContextLayers<AgentContext> {
    const memory = this.agents.memory;
    return this.#contextLayers({
      access: this.access,
      agents: this.agents,
      guard: this.guard.layer,
      routing: {
        ...(this.#routing ? { registry: this.#routing } : {}),
        ...(memory ? { memory } : {}),
        ...(this.#routingDefaults ? { defaults: this.#routingDefaults } : {}),
      },
      extra: this.#extraLayers,
    });
  }

  /** Signs checkpoints of runs' chain heads, when the `signing` option is on. */
  get signer(): CheckpointSigner | undefined {
    return this.#signer;
  }

  /** Registers a workflow so this process's worker can run it. */
  register(definition: WorkflowDefinition<any, any, any>): void {
    const existing = this.workflows.get(definition.name);
    if (existing && existing !== definition) {
      throw new InvalidArgumentError(`Two different workflows are named '${definition.name}'.`);
    }
    if (definition.options.pool !== undefined)
      this.pools.assertPool(definition.options.pool, `Workflow '${definition.name}'`);
    this.workflows.set(definition.name, definition as WorkflowDefinition);
  }

  #definition(workflow: WorkflowDefinition | string): WorkflowDefinition {
    if (typeof workflow !== 'string') {
      this.register(workflow);
      return workflow;
    }
    const definition = this.workflows.get(workflow);
    if (!definition) throw new UnknownWorkflowError({ name: workflow, known: [...this.workflows.keys()] });
    return definition;
  }

  /**
   * Starts a run. The input is validated (JSON, size) before anything is written; the run and its
   * `run.started` event are written in one transaction. With an idempotency key already used, the
   * existing run is returned and nothing is written.
   */
  async start<W extends WorkflowDefinition<any, any, any>>(
    workflow: W | string,
    input: WorkflowInput<W>,
    options: StartOptions = {},
  ): Promise<RunHandle<WorkflowOutput<W>>> {
    const definition = this.#definition(workflow as WorkflowDefinition | string);
    this.#checkDepth(input, `The input of workflow '${definition.name}'`);
    this.#checkDepth(options.metadata, `The metadata of a run of workflow '${definition.name}'`);
    const schema = definition.options.input;
    const fitting = schema ? await checkInput(schema, input, definition.name) : input;
    const runId = newId('run', this.clock());
    const checked = await this.guard.checkRunInput({
      runId,
      workflow: definition.name,
      input: fitting,
      tenant: options.tenant ?? 'default',
      principal: options.as ?? 'user:anonymous',
    });
    const { run, created } = await this.#create(
      definition,
      checked.input,
      runId,
      options,
      undefined,
      checked.verdicts,
    );
    if (created) this.worker?.notify();
    return this.handle(run.runId, created, options.tenant);
  }

  /** Refuses a value nested deeper than `maxDepth`, before anything is encoded or journaled. */
  #checkDepth(value: unknown, what: string): void {
    if (nestsDeeperThan(value, this.maxDepth))
      throw new NestingTooDeepError({ what, limit: this.maxDepth, option: 'maxDepth' });
  }

  async #create(
    definition: WorkflowDefinition,
    input: unknown,
    runId: string,
    options: StartOptions,
    parent: RunRecord | undefined,
    guardVerdicts: readonly GuardVerdictRecord[] = [],
    continuedFrom?: string,
  ): Promise<{ run: RunRecord; created: boolean }> {
    const encoded = canonicalJson(input ?? null, `The input of workflow '${definition.name}'`);
    const bytes = Buffer.byteLength(encoded);
    if (bytes > this.maxPayloadBytes) {
      throw new PayloadTooLargeError({
        what: `The input of workflow '${definition.name}'`,
        bytes,
        limit: this.maxPayloadBytes,
      });
    }
    const principal = options.as ?? parent?.principal ?? 'user:anonymous';
    if (!/^[a-z][a-z0-9_-]*:.+$/.test(principal)) {
      throw new InvalidArgumentError(
        `A principal reads 'kind:name' (user:alice, service:cron), got '${principal}'.`,
      );
    }
    if (options.metadata && Object.hasOwn(options.metadata, 'grant')) {
      throw new InvalidArgumentError(
        `metadata.grant is reserved for the run's grant; pass the grant as the start option 'grant'.`,
      );
    }
    const tenant = options.tenant ?? parent?.tenant ?? 'default';
    const grant = this.access.runGrant({
      given: options.grant,
      child: parent !== undefined,
      workflow: definition.name,
      tenant,
      principal,
      now: this.clock(),
    });
    const grantRecord = grant === undefined ? undefined : { ...grant, actions: [...grant.actions] };
    const timeout = options.timeout ?? definition.options.timeout;
    let timeoutMs = timeout === undefined ? undefined : toMilliseconds(timeout, 'run timeout');
    const now = this.clock();
    // A child inherits what is left of its parent's deadline, unless it outlives its parent.
    if (parent?.deadlineAt !== undefined && options.metadata?.parentClose !== 'abandon') {
      const remaining = Math.max(1, parent.deadlineAt - now);
      if (timeoutMs === undefined || remaining < timeoutMs) timeoutMs = remaining;
    }
    const started = sealEvent<'run.started'>({
      runId,
      seq: 1,
      type: 'run.started',
      at: new Date(now).toISOString(),
      actor: principal,
      onBehalfOf: parent ? [`workflow:${parent.workflow}`, parent.principal] : [],
      payload: {
        workflow: definition.name,
        input: input ?? null,
        format: JOURNAL_FORMAT,
        flags: [...ENGINE_FLAGS],
        ...(parent ? { parentRunId: parent.runId } : {}),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
        tenant,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(guardVerdicts.length === 0 ? {} : { guard: [...guardVerdicts] }),
        ...(grantRecord === undefined ? {} : { grant: grantRecord }),
        ...(continuedFrom === undefined ? {} : { continuedFrom }),
      },
      prevHash: GENESIS_HASH,
    });
    return this.store.createRun(
      {
        runId,
        workflow: definition.name,
        tenant,
        principal,
        input: input ?? null,
        createdAt: now,
        ...(parent ? { parentRunId: parent.runId } : {}),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
        ...(options.priority === undefined ? {} : { priority: options.priority }),
        ...(timeoutMs === undefined ? {} : { deadlineAt: now + timeoutMs }),
        ...(options.metadata || grantRecord
          ? {
              metadata: { ...options.metadata, ...(grantRecord === undefined ? {} : { grant: grantRecord }) },
            }
          : {}),
        ...(parent === undefined && this.#admission ? { admission: this.#admission } : {}),
      },
      started,
    );
  }

  async #startChild(request: ChildStartRequest): Promise<string> {
    const runId = newId('run', this.clock());
    const { run } = await this.#create(
      request.workflow,
      request.input,
      runId,
      {
        idempotencyKey: request.idempotencyKey,
        ...(request.options.priority === undefined ? {} : { priority: request.options.priority }),
        ...(request.options.timeout === undefined ? {} : { timeout: request.options.timeout }),
        ...(request.options.grant === undefined ? {} : { grant: parseGrant(request.options.grant) }),
        ...(request.options.parentClose === 'abandon' ? { metadata: { parentClose: 'abandon' } } : {}),
      },
      request.parent,
    );
    this.worker?.notify();
    return run.runId;
  }

  /**
   * The successor of a run closed by ctx.continueAsNew: the same workflow, principal, tenant, grant,
   * parent and priority, started under the idempotency key `continue:<runId>` (so a crash before
   * the run closed finds the same successor again).
   */
  async #startSuccessor(run: RunRecord, input: unknown): Promise<string> {
    const definition = this.#definition(run.workflow);
    const [started] = await this.store.readEvents(run.runId, 1);
    const grant =
      started?.type === 'run.started' ? (started.payload as { grant?: GrantRecord }).grant : undefined;
    const parent = run.parentRunId === undefined ? undefined : await this.store.getRun(run.parentRunId);
    const { run: successor, created } = await this.#create(
      definition,
      input,
      newId('run', this.clock()),
      {
        as: run.principal,
        tenant: run.tenant,
        idempotencyKey: `continue:${run.runId}`,
        priority: run.priority,
        ...(grant === undefined ? {} : { grant: parseGrant(grant) }),
      },
      parent,
      [],
      run.runId,
    );
    if (created) this.worker?.notify();
    return successor.runId;
  }

  /** A handle on a run; with a tenant, every call through it is scoped to that tenant. */
  handle<Output = unknown>(runId: string, created = false, tenant?: string): RunHandle<Output> {
    const scope = tenant === undefined ? {} : { tenant };
    return {
      runId,
      created,
      result: (options) => this.result<Output>(runId, { ...options, ...scope }),
      get: () => this.getRun(runId, scope),
      history: () => this.history(runId, scope),
      stream: (options) => this.stream(runId, { ...options, ...scope }),
    };
  }

  /**
   * A run's live stream, from any process's worker: its journal events interleaved with the
   * ephemeral parts of work in flight (model text, reasoning and tool-call arguments as they form,
   * `ctx.stream.write` progress, step-started markers), from `after` (a part's `cursor`) on, then
   * live until the run finishes (an `end` part). A model call a dead worker left open ends with an
   * `interrupted` part; the stream goes on when the run resumes. Throws RunNotFoundError,
   * StreamCursorError and StreamReadersExhaustedError at the first `next()`.
   *
   * @example for await (const part of baton.stream(runId, { after: lastCursor })) console.log(part.type);
   */
  stream(
    runId: string,
    options: { after?: string; signal?: AbortSignal; tenant?: string } = {},
  ): AsyncGenerator<RunStreamPart, void, undefined> {
    return this.streams.read(runId, {
      ...(options.after === undefined ? {} : { after: options.after }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.tenant === undefined ? {} : { scope: { tenant: options.tenant } }),
    });
  }

  /**
   * The run, as the store has it. With the caller's tenant, a run of another tenant is not found
   * (RunNotFoundError, with suggestions from the caller's tenant only).
   */
  async getRun(runId: string, options: { tenant?: string } = {}): Promise<RunRecord> {
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await this.store.getRun(runId, scope);
    if (!run)
      throw new RunNotFoundError({
        runId,
        suggestions: await this.store.findRunIds(runId.slice(0, 8), 3, scope),
      });
    return run;
  }

  /** Runs, newest first. With the caller's tenant, only that tenant's runs (whatever `filter.tenant` says). */
  async listRuns(filter: RunFilter = {}, options: { tenant?: string } = {}): Promise<RunRecord[]> {
    if (options.tenant === undefined) return this.store.listRuns(filter);
    if (filter.tenant !== undefined && filter.tenant !== options.tenant) return [];
    return this.store.listRuns({ ...filter, tenant: options.tenant });
  }

  /** The run's journal, in order. With the caller's tenant, a run of another tenant is not found. */
  async history(runId: string, options: { tenant?: string; fromSeq?: number } = {}): Promise<JournalEvent[]> {
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    if (scope) await this.getRun(runId, scope);
    return this.store.readEvents(runId, options.fromSeq ?? 1, scope);
  }

  /** Waits until the run finishes. Resolves with its result; rejects with RunFailedError if it failed or was cancelled. */
  async result<Output = unknown>(
    runId: string,
    options: { timeout?: Duration; pollMs?: number; tenant?: string } = {},
  ): Promise<Output> {
    let run = await this.waitFor(runId, options);
    // A run closed by ctx.continueAsNew: its result is the chain's last run's.
    while (run.status === 'continued') {
      const next = successorOf(await this.store.readEvents(run.runId, run.lastSeq));
      if (next === undefined) break;
      run = await this.waitFor(next, options);
    }
    if (run.status === 'completed') return run.result as Output;
    throw new RunFailedError({
      runId: run.runId,
      error: run.error ?? {
        name: 'RunCancelledError',
        message: `Run ${runId} was cancelled.`,
        code: 'RUN_CANCELLED',
      },
    });
  }

  /**
   * Waits until the run is finished (completed, failed or cancelled) and returns it. With a
   * `timeout`, rejects with RunWaitTimeoutError when the run has not finished by then (the run goes on).
   */
  async waitFor(
    runId: string,
    options: { timeout?: Duration; pollMs?: number; tenant?: string } = {},
  ): Promise<RunRecord> {
    const timeoutMs = options.timeout === undefined ? Infinity : toMilliseconds(options.timeout);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.getRun(runId, options.tenant === undefined ? {} : { tenant: options.tenant });
      if (isTerminal(run.status)) return run;
      if (Date.now() >= deadline) {
        throw new RunWaitTimeoutError({ runId, status: run.status, timeoutMs });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(options.pollMs ?? 250, deadline - Date.now()));
        this.#finished.once(runId, done);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#finished.removeAllListeners(runId);
    }
  }

  /**
   * Sends a signal to a run. It is kept until the run's `ctx.waitFor(name)` consumes it. With an
   * `idempotencyKey`, the signal is delivered once however often it is sent (a retried request, a
   * second click): a resend returns `duplicate: true` and sends nothing, even after the run consumed
   * it or finished; the same key with another name or payload throws SignalKeyConflictError.
   *
   * @example await baton.signal(runId, 'payment', { cents: 500 }, { idempotencyKey: 'pay-7731' });
   */
  async signal(
    runId: string,
    name: string,
    payload?: unknown,
    options: { as?: string; tenant?: string; idempotencyKey?: string } = {},
  ): Promise<SignalReceipt> {
    if (options.idempotencyKey !== undefined) checkSignalKey(options.idempotencyKey);
    this.#checkDepth(payload, `The payload of signal '${name}'`);
    const bytes = Buffer.byteLength(canonicalJson(payload ?? null, `The payload of signal '${name}'`));
    if (bytes > this.maxPayloadBytes) {
      throw new PayloadTooLargeError({
        what: `The payload of signal '${name}'`,
        bytes,
        limit: this.maxPayloadBytes,
      });
    }
    const signal = {
      signalId: newId('sig', this.clock()),
      runId,
      name,
      payload,
      sentBy: options.as ?? 'user:anonymous',
      sentAt: this.clock(),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    };
    const delivery = await this.store.sendSignal(
      signal,
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    if (delivery.kept) this.worker?.notify();
    return signalReceipt(delivery, signal);
  }

  /**
   * The latest value the run published under `key` with `ctx.setEvent`, read from its journal
   * without a worker. With `timeout`, waits up to that long for the value to appear; resolves with
   * undefined when it has not (or the run finished without publishing it). Default: no wait.
   *
   * @example const progress = await baton.getEvent(runId, 'progress', { timeout: '5s' });
   */
  async getEvent<T = unknown>(
    runId: string,
    key: string,
    options: { timeout?: Duration; tenant?: string; pollMs?: number } = {},
  ): Promise<T | undefined> {
    checkEventKey(key);
    const timeoutMs = options.timeout === undefined ? 0 : toMilliseconds(options.timeout, 'getEvent timeout');
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await this.getRun(runId, scope ?? {});
    const found = await waitForPublishedValue(this.store, run.runId, key, {
      timeoutMs,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(scope ? { scope } : {}),
    });
    return found?.value as T | undefined;
  }

  /** Every value the run published with `ctx.setEvent`, latest per key, with the seq and time that set it. */
  async publishedValues(runId: string, options: { tenant?: string } = {}): Promise<PublishedValue[]> {
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await this.getRun(runId, scope ?? {});
    return [...(await readPublishedValues(this.store, run.runId, scope ? { scope } : {})).values()];
  }

  /**
   * Answers a query the run's workflow declares (`workflow(name, fn, { queries })`) from the values
   * the run published, without a worker replaying it. The workflow must be registered here.
   * Throws UnknownQueryError for a query the workflow does not declare.
   */
  async query<T = unknown>(runId: string, name: string, options: { tenant?: string } = {}): Promise<T> {
    const run = await this.getRun(runId, options);
    const definition = this.#definition(run.workflow);
    const query = definition.options.queries?.[name];
    if (query === undefined)
      throw new UnknownQueryError({
        workflow: run.workflow,
        query: name,
        known: Object.keys(definition.options.queries ?? {}),
      });
    const values = await this.publishedValues(run.runId, options);
    return query(Object.fromEntries(values.map((entry) => [entry.key, entry.value]))) as T;
  }

  /**
   * Asks a run to cancel. Durable: recorded at once, journaled by the run as `run.cancelRequested`
   * (with `reason` and `as`, who asked). The workflow sees CancelledError at its current awaits
   * (in-flight steps see their abort signal fire) and may clean up; the run ends as it decides
   * (cancelled when the error escapes). A parked run is woken for it. `children`: `cancel` (default)
   * cancels its child runs too, but those started with `parentClose: 'abandon'`; `abandon` leaves
   * them all running. Runs started by engines before flag 1 stop where they are.
   *
   * @example await baton.cancel(runId, { reason: 'customer left', as: 'user:bob' });
   * @throws RunNotFoundError, RunFinishedError (the run already ended).
   */
  async cancel(
    runId: string,
    options: { reason?: string; as?: string; children?: 'cancel' | 'abandon'; tenant?: string } = {},
  ): Promise<void> {
    if (options.children !== undefined && options.children !== 'cancel' && options.children !== 'abandon') {
      throw new InvalidArgumentError(`children is 'cancel' or 'abandon', got '${String(options.children)}'.`);
    }
    await this.store.requestCancel(
      runId,
      options.reason,
      this.clock(),
      options.tenant === undefined ? undefined : { tenant: options.tenant },
      {
        ...(options.as === undefined ? {} : { by: options.as }),
        ...(options.children === undefined ? {} : { children: options.children }),
      },
    );
    this.#cancelLocally(runId, options.reason);
  }

  /**
   * Pauses a run: no worker claims it until `resume`. A worker running it releases it (at once in
   * this process, at its next heartbeat elsewhere), as when a worker stops: in-flight steps see their
   * abort signal and run again after the resume. Cancelling a paused run ends it.
   */
  async pause(runId: string, options: { tenant?: string } = {}): Promise<RunRecord> {
    const run = await this.store.pauseRun(
      runId,
      this.clock(),
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    this.worker?.abortRun(runId, new RunPausedError({ runId }));
    return run;
  }

  /**
   * Resumes a run. A paused run is unpaused: claimable again (at once, if it was due), nothing is
   * journaled. A failed, timed-out or cancelled run is resumed in place, under the same run id,
   * from where it stopped: `run.resumed` is journaled with who (`as`) and why (`reason`), the op
   * whose failure ended it is tried again (see resumeInPlace in src/engine/resume-run.ts), and
   * `timeout` gives it a new deadline (without it, none). Fork instead to try something different.
   *
   * @example await baton.resume(runId, { as: 'user:ops', reason: 'the payments API is back' });
   * @throws RunNotFoundError, RunNotResumableError (a running, waiting, pending or completed run).
   */
  async resume(runId: string, options: ResumeInPlaceOptions = {}): Promise<RunRecord> {
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const current = await this.getRun(runId, scope ?? {});
    let run: RunRecord;
    if (current.paused && !isTerminal(current.status)) {
      run = await this.store.resumeRun(runId, this.clock(), scope);
    } else if (
      current.status === 'failed' ||
      current.status === 'cancelled' ||
      current.status === 'timed_out'
    ) {
      const { resumeInPlace } = await import('./engine/resume-run.ts');
      run = await resumeInPlace({ store: this.store, clock: this.clock }, current, options);
      // The reopening is signed at once: verification accepts events after a signed end only
      // behind a signed run.resumed.
      await this.signer?.signRun(runId);
    } else {
      throw new RunNotResumableError({ runId, status: current.status });
    }
    this.worker?.notify();
    return run;
  }

  /**
   * Approves a pending approval (`ctx.approval`, a gated tool call, a budget extension, a loop):
   * checks that it is open and that `as` may decide it (see src/approvals/approval-rights.ts), checks
   * edited `args` against the gated tool's schema, and sends the decision; nothing is sent when a
   * check fails. The run journals `approval.decided` (decision, approver, comment) when it takes it.
   *
   * @example await baton.approve(runId, 'tool-7', { as: 'user:bob', comment: 'ok, customer verified' });
   */
  approve(runId: string, approvalId: string, options: ApproveOptions): Promise<ApprovalReceipt> {
    return this.guard.desk.approve(runId, approvalId, options);
  }

  /** Denies a pending approval; see {@link approve}. */
  deny(runId: string, approvalId: string, options: DenyOptions): Promise<ApprovalReceipt> {
    return this.guard.desk.deny(runId, approvalId, options);
  }

  /** The approval inbox: approvals waiting for a decision, oldest first; `{ mine: true, as }` for one person's. */
  approvals(query: ApprovalsQuery = {}): Promise<PendingApproval[]> {
    return this.guard.desk.list(query);
  }

  /** Stops this process's activation of a run asked to cancel at once, instead of at its next heartbeat. */
  #cancelLocally(runId: string, reason: string | undefined): void {
    this.worker?.abortRun(
      runId,
      new RunCancelledError({ runId, ...(reason === undefined ? {} : { reason }) }),
    );
    this.worker?.notify();
  }

  /** The run's tool calls parked in doubt (a crash between intent and result), waiting for a person. */
  async inDoubt(runId: string, scope?: { tenant?: string }): Promise<InDoubtCall[]> {
    await this.getRun(runId, scope);
    const { inDoubtCalls } = await import('./agents/in-doubt.ts');
    return inDoubtCalls(await this.store.readEvents(runId));
  }

  /**
   * Tool calls parked in doubt across runs (of `tenant`, when given), newest run first, at most
   * `limit` (default 200): read from the journals of the runs that wait.
   */
  async inDoubtCalls(query: { tenant?: string; limit?: number } = {}): Promise<InDoubtCall[]> {
    const { inDoubtCalls } = await import('./agents/in-doubt.ts');
    const limit = query.limit ?? 200;
    const found: InDoubtCall[] = [];
    const pageSize = 200;
    let createdBefore: number | undefined;
    for (;;) {
      const page = await this.store.listRuns({
        status: ['waiting'],
        limit: pageSize,
        ...(query.tenant === undefined ? {} : { tenant: query.tenant }),
        ...(createdBefore === undefined ? {} : { createdBefore }),
      });
      for (const run of page) {
        found.push(...inDoubtCalls(await this.store.readEvents(run.runId)));
        if (found.length >= limit) return found.slice(0, limit);
      }
      if (page.length < pageSize) return found;
      createdBefore = page.at(-1)!.createdAt;
    }
  }

  /**
   * Resolves a tool call left in doubt by a crash: `retry` runs it again (same idempotency key),
   * `skip` does not and gives the model `result` (what the outside system says happened). Durable:
   * sent as the signal `baton.resolve:<op>`, journaled as `tool.resolved` when the run takes it.
   * The call is named by `op` or by the model's `callId`; either may be left out when the run has one
   * call in doubt. `as` (who resolved it) is journaled on `signal.received` and `tool.resolved`.
   *
   * @example await baton.resolveInDoubt(runId, { action: 'skip', result: { refunded: true }, as: 'user:ops' });
   */
  async resolveInDoubt(
    runId: string,
    resolution: InDoubtResolution & { op?: number; callId?: string; as?: string; tenant?: string },
  ): Promise<InDoubtCall> {
    const { chooseInDoubt } = await import('./agents/in-doubt.ts');
    const call = chooseInDoubt(
      runId,
      await this.inDoubt(runId, resolution.tenant === undefined ? {} : { tenant: resolution.tenant }),
      resolution,
    );
    const by = resolution.as ?? resolution.by;
    const payload: InDoubtResolution = {
      action: resolution.action,
      ...(resolution.result === undefined ? {} : { result: resolution.result }),
      ...(by === undefined ? {} : { by }),
    };
    await this.signal(runId, call.signal, payload, {
      ...(by === undefined ? {} : { as: by }),
      ...(resolution.tenant === undefined ? {} : { tenant: resolution.tenant }),
    });
    return call;
  }

  /**
   * Forks a run: a new run that reuses the origin's journal up to seq `at` (copied, re-sealed in
   * its own chain, with `run.forked` pointing at the origin) and goes on live from there on the
   * registered code, with `overrides` (another input, model or instructions) for what comes after.
   * The origin gets a `run.forkedTo` note in its run record; its journal is untouched. See forkRun
   * (src/explain/fork.ts) for what is shared with the origin.
   *
   * @example const whatIf = await baton.fork(runId, { at: 7, overrides: { model: 'openai:gpt-4.1' } });
   * @throws RunNotFoundError (near matches), ForkWorkflowError, ForkPointError, HistoryFormatError.
   */
  async fork(runId: string, options: ForkOptions): Promise<RunHandle> {
    const { forkRun } = await import('./explain/fork.ts');
    const run = await forkRun(
      {
        store: this.store,
        workflows: this.workflows,
        clock: this.clock,
        maxPayloadBytes: this.maxPayloadBytes,
        checkModel: (id, agent) => {
          this.agents.checkModelId(id, agent);
          this.agents.resolveModel(id, agent);
        },
      },
      runId,
      options,
    );
    this.worker?.notify();
    return this.handle(run.runId, true, options.tenant);
  }

  /**
   * Replays a run's journal against the workflow code registered here (or `options.workflow`) with
   * no side effects and reports the first divergence: see `replay` (src/explain/replay.ts).
   */
  async replay(
    runId: string,
    options: Omit<ReplayOptions, 'layers' | 'tenant'> & {
      workflow?: WorkflowDefinition<any, any, any>;
      tenant?: string;
    } = {},
  ): Promise<ReplayReport> {
    const run = await this.getRun(runId, options.tenant === undefined ? {} : { tenant: options.tenant });
    const definition = options.workflow ?? this.workflows.get(run.workflow);
    if (!definition)
      throw new UnknownWorkflowError({ name: run.workflow, known: [...this.workflows.keys()] });
    const { workflow: _workflow, tenant: _tenant, ...rest } = options;
    const { replay } = await import('./explain/replay.ts');
    return replay(await this.store.readEvents(run.runId), definition, {
      ...rest,
      tenant: run.tenant,
      layers: this.#layers(),
    });
  }

  /** Stops this process's worker (releasing its runs) and closes the store if Baton opened it. */
  async close(): Promise<void> {
    await this.worker?.stop();
    await this.streams.close();
    await this.#telemetry?.close();
    await this.pools.close();
    await this.#signer?.stop();
    await Promise.allSettled(this.#connections.map(async (connection) => connection.close()));
    if (this.#ownsStore) await this.store.close();
  }
}

/** The classes a Baton is made of, loaded when one is opened: importing Baton loads none of them. */
interface BatonParts {
  LiveStreams: typeof LiveStreams;
  AgentRuntime: typeof AgentRuntime;
  PoolScheduler: typeof PoolScheduler;
  Guard: typeof Guard;
  /** Only when the Baton runs a worker (not with `worker: false`, as read-only commands open it). */
  Worker: typeof Worker | undefined;
  /** The one list of context layers (src/context-layers.ts). */
  contextLayers: typeof contextLayers;
  installAccess: typeof installAccess;
}

async function loadParts(options: BatonOptions): Promise<BatonParts> {
  const [streams, agents, pools, guard, layers, worker] = await Promise.all([
    import('./live-streams.ts'),
    import('./agents/runtime.ts'),
    import('./resources/pool-scheduler.ts'),
    import('./guard/guard.ts'),
    import('./context-layers.ts'),
    options.worker === false ? undefined : import('./engine/worker.ts'),
  ]);
  return {
    LiveStreams: streams.LiveStreams,
    AgentRuntime: agents.AgentRuntime,
    PoolScheduler: pools.PoolScheduler,
    Guard: guard.Guard,
    Worker: worker?.Worker,
    contextLayers: layers.contextLayers,
    installAccess: layers.installAccess,
  };
}
