import type { AgentOverrides } from '../agents/run-overrides.ts';
import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { newId } from '../engine/ids.ts';
import type { WorkflowDefinition } from '../engine/workflow.ts';
import { InvalidArgumentError, PayloadTooLargeError, RunNotFoundError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEvent, JournalEventOf, JournalEventPayloads } from '../journal/events.ts';
import { GENESIS_HASH, sealEvent } from '../journal/hash-chain.ts';
import type { RunRecord, Store, TenantScope } from '../store/store.ts';
import { ForkPointError, ForkWorkflowError } from './explain-errors.ts';
import { checkHistory } from './history-document.ts';
import { suggestRunIds } from './suggest-run-ids.ts';

/** What a fork changes: the run's input, and for agents, the model and the instructions. */
export interface ForkOverrides extends AgentOverrides {
  /** The input the fork's code sees from its start (replayed ops keep their recorded results). */
  input?: unknown;
}

export interface ForkOptions {
  /** The last seq of the origin's journal the fork reuses (see `baton explain` for the seqs). */
  at: number;
  overrides?: ForkOverrides;
  /** Who forks, journaled as the actor of `run.forked`. Default `user:anonymous`. */
  as?: string;
  /** Look for the origin in this tenant only; the fork is in the origin's tenant. */
  tenant?: string;
  /** The fork's own timeout, from when it is made. Default: the origin's timeout. */
  timeout?: Duration;
}

export interface ForkDeps {
  store: Store;
  workflows: ReadonlyMap<string, WorkflowDefinition>;
  clock: () => number;
  maxPayloadBytes: number;
  /** Checks a model id an override names (provider prefix, API key), for `agent`. Throws when it cannot be used. */
  checkModel: (id: string, agent: string) => void;
}

/**
 * Creates a fork of a run: a new run whose journal is the origin's events 1…`at`, re-sealed in its
 * own chain (run.started keeps the origin's time, workflow, format and flags; its input is the
 * override when given), then `run.forked` pointing at the origin's run and seq (with the origin's
 * hash there) and the overrides. The origin gets a `run.forkedTo` note in its run record's
 * `metadata.forkedTo`, in the same transaction; its journal is not touched. From its fork point the
 * new run goes on live, on the registered code, when a worker claims it. A fork of a fork keeps
 * the earlier overrides unless it changes them.
 *
 * Failure semantics: nothing is written unless everything is (one transaction). Children started
 * before the fork point are the origin's, and the fork awaits the same child runs; a tool call cut
 * between its intent and its result is in doubt in the fork (run again when it is a read or
 * idempotent, else parked for a person), as after a crash.
 *
 * @throws RunNotFoundError (with near matches), ForkWorkflowError, ForkPointError, HistoryFormatError,
 * InvalidArgumentError (overrides), UnknownModelError / MissingApiKeyError (a model override).
 */
export async function forkRun(deps: ForkDeps, runId: string, options: ForkOptions): Promise<RunRecord> {
  if (!Number.isInteger(options.at))
    throw new InvalidArgumentError(`A fork point is a seq (a whole number), got ${String(options.at)}.`);
  const scope: TenantScope | undefined =
    options.tenant === undefined ? undefined : { tenant: options.tenant };
  const origin = await deps.store.getRun(runId, scope);
  if (!origin)
    throw new RunNotFoundError({ runId, suggestions: await suggestRunIds(deps.store, runId, scope) });
  const definition = deps.workflows.get(origin.workflow);
  if (!definition)
    throw new ForkWorkflowError({ runId, workflow: origin.workflow, known: [...deps.workflows.keys()] });
  const events = checkHistory(await deps.store.readEvents(runId, 1, scope), `run ${runId}`);
  // The event that ended the run (a resumed run ended by an earlier one goes on past it).
  const last = events[events.length - 1]!;
  const ended = ['run.completed', 'run.failed', 'run.cancelled', 'run.timedOut'].includes(last.type)
    ? last
    : undefined;
  const lastSeq = events[events.length - 1]!.seq;
  const maxSeq = ended ? ended.seq - 1 : lastSeq;
  if (options.at < 1 || options.at > maxSeq) {
    throw new ForkPointError({
      runId,
      seq: options.at,
      lastSeq,
      maxSeq,
      ...(ended ? { finishedBy: ended.type } : {}),
    });
  }
  const by = options.as ?? 'user:anonymous';
  if (!/^[a-z][a-z0-9_-]*:.+$/.test(by))
    throw new InvalidArgumentError(`A principal reads 'kind:name' (user:alice, service:cron), got '${by}'.`);
  const newTimeoutMs =
    options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'fork timeout');

  const previous = events
    .slice(0, options.at)
    .findLast((event): event is JournalEvent<'run.forked'> => event.type === 'run.forked');
  const overrides = {
    ...previous?.payload.overrides,
    ...checkOverrides(deps, definition.name, options.overrides ?? {}),
  };
  const now = deps.clock();
  const forkId = newId('run', now);
  const started = events[0] as JournalEvent<'run.started'>;
  const { parentRunId: _parent, idempotencyKey: _key, guard, ...kept } = started.payload;
  const changedInput = options.overrides !== undefined && 'input' in options.overrides;
  const input = changedInput ? (options.overrides!.input ?? null) : started.payload.input;
  // Guardrail verdicts on the origin's input say nothing about a new one.
  const payload: JournalEventPayloads['run.started'] = {
    ...kept,
    input,
    ...(guard && !changedInput ? { guard } : {}),
    ...(newTimeoutMs === undefined ? {} : { timeoutMs: newTimeoutMs }),
  };

  const copies: JournalEvent[] = [];
  let prevHash = GENESIS_HASH;
  const seal = <T extends keyof JournalEventPayloads>(
    event: Omit<JournalEventOf<T>, 'hash' | 'runId' | 'prevHash'>,
  ): JournalEventOf<T> => {
    const sealed = sealEvent<T>({ ...event, runId: forkId, prevHash });
    prevHash = sealed.hash;
    return sealed;
  };
  const first = seal({
    seq: 1,
    type: 'run.started',
    at: started.at,
    actor: started.actor,
    onBehalfOf: [...started.onBehalfOf],
    payload,
  });
  for (const event of events.slice(1, options.at)) {
    const { hash: _hash, runId: _runId, prevHash: _prevHash, ...copy } = event;
    const resealed = sealEvent({ ...copy, onBehalfOf: [...event.onBehalfOf], runId: forkId, prevHash });
    prevHash = resealed.hash;
    copies.push(resealed);
  }
  const at = new Date(now).toISOString();
  copies.push(
    seal({
      seq: options.at + 1,
      type: 'run.forked',
      at,
      actor: by,
      onBehalfOf: [],
      payload: {
        from: { runId, seq: options.at, hash: events[options.at - 1]!.hash },
        copied: options.at,
        ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
      },
    }),
  );
  const timeoutMs = payload.timeoutMs;
  const { run } = await deps.store.createRun(
    {
      runId: forkId,
      workflow: origin.workflow,
      tenant: origin.tenant,
      principal: origin.principal,
      input,
      createdAt: now,
      priority: origin.priority,
      ...(timeoutMs === undefined ? {} : { deadlineAt: now + timeoutMs }),
      metadata: { forkOf: { runId, seq: options.at } },
      fork: {
        events: copies,
        origin: runId,
        note: { type: 'run.forkedTo', runId: forkId, seq: options.at, at, by },
      },
    },
    first,
  );
  return run;
}

/** Checks overrides at the door: JSON input within the size limit, model ids that resolve, instructions as text. */
function checkOverrides(deps: ForkDeps, workflow: string, overrides: ForkOverrides): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(overrides)) {
    if (key !== 'input' && key !== 'model' && key !== 'instructions') {
      throw new InvalidArgumentError(
        `A fork overrides input, model or instructions; '${key}' is none of them.`,
      );
    }
  }
  if ('input' in overrides) {
    const what = `The input of the fork of workflow '${workflow}'`;
    const bytes = Buffer.byteLength(canonicalJson(overrides.input ?? null, what));
    if (bytes > deps.maxPayloadBytes)
      throw new PayloadTooLargeError({ what, bytes, limit: deps.maxPayloadBytes });
    out.input = overrides.input ?? null;
  }
  for (const key of ['model', 'instructions'] as const) {
    const value = overrides[key];
    if (value === undefined) continue;
    const entries =
      typeof value === 'string'
        ? [['*', value] as const]
        : typeof value === 'object' && value !== null
          ? Object.entries(value)
          : undefined;
    if (!entries || entries.some(([, text]) => typeof text !== 'string' || text === '')) {
      throw new InvalidArgumentError(
        `A fork's ${key} override is a non-empty string, or an object of them by agent name.`,
      );
    }
    if (key === 'model')
      for (const [agent, id] of entries) deps.checkModel(id, agent === '*' ? 'the fork' : agent);
    out[key] = typeof value === 'string' ? value : { ...value };
  }
  return out;
}
