import type { ModelStreamEvent } from './agents/runtime.ts';
import { ConfigError } from './errors.ts';
import { toMilliseconds, type Duration } from './engine/duration.ts';
import type { RunStreamSink } from './engine/context-impl.ts';
import { readRunStream, type RunStreamReadOptions } from './engine/run-stream-reader.ts';
import type { RunStreamPart } from './engine/run-stream-parts.ts';
import { RunStreamWriter } from './engine/run-stream-writer.ts';
import { StreamWakes } from './engine/stream-wakes.ts';
import type { NewStreamPart } from './store/run-streams.ts';
import type { JournalWrite, Store } from './store/store.ts';

/**
 * Live run streams of a Baton (`Baton.open({ streams })`): how long ephemeral parts are kept, how
 * many, how many readers this process serves. See docs/guide/live-streams.md.
 *
 * @example Baton.open({ store, workflows, streams: { retention: '30m', maxPartsPerRun: 5000 } })
 */
export interface StreamsOptions {
  /** `false`: runs write no ephemeral parts (readers still get journal events). Default true when the store can keep them. */
  enabled?: boolean;
  /** Parts older than this are pruned. Default 1 h. */
  retention?: Duration;
  /** At most this many parts are kept per run (older ones are pruned). Default 20 000. */
  maxPartsPerRun?: number;
  /** Parts held in memory waiting to be written; beyond it, parts are dropped (and counted). Default 10 000. */
  maxBufferedParts?: number;
  /** Parts are written at most this often, in ms (the first at once, the rest batched). Default 10. */
  writeIntervalMs?: number;
  /** Live readers this process serves at once; more fail with TOO_MANY_STREAM_READERS. Default 1000. */
  maxReaders?: number;
  /** How often a reader without news looks again, in ms (other processes' SQLite writes are seen this way). Default 100. */
  pollMs?: number;
  /** How often this process prunes. Default 1 min. */
  pruneEvery?: Duration;
}

/**
 * The live streams of one Baton: the writer of this process's runs' ephemeral parts (model deltas
 * from the agents layer, progress and step markers from the engine), the readers' wake-ups and
 * limits, and retention. Built by Baton; reach it as `baton.streams`.
 */
export class LiveStreams {
  readonly #store: Store;
  readonly #writer: RunStreamWriter | undefined;
  readonly #wakes: StreamWakes;
  readonly #clock: () => number;
  readonly #pollMs: number;
  readonly #retentionMs: number;
  readonly #maxPartsPerRun: number;
  readonly #pruneEveryMs: number;
  readonly #log: (message: string, error?: unknown) => void;
  #pruner: ReturnType<typeof setInterval> | undefined;

  constructor(
    store: Store,
    options: StreamsOptions = {},
    deps: { clock: () => number; log: (message: string, error?: unknown) => void },
  ) {
    this.#store = store;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#pollMs = positive(options.pollMs ?? 100, 'streams.pollMs');
    this.#maxPartsPerRun = positive(options.maxPartsPerRun ?? 20_000, 'streams.maxPartsPerRun');
    this.#retentionMs = toMilliseconds(options.retention ?? '1h', 'streams.retention');
    this.#pruneEveryMs = toMilliseconds(options.pruneEvery ?? '1m', 'streams.pruneEvery');
    this.#wakes = new StreamWakes(store.runStreams, {
      maxReaders: positive(options.maxReaders ?? 1000, 'streams.maxReaders'),
      log: deps.log,
    });
    if (store.runStreams && options.enabled !== false) {
      this.#writer = new RunStreamWriter(store.runStreams, {
        maxBufferedParts: positive(options.maxBufferedParts ?? 10_000, 'streams.maxBufferedParts'),
        minWriteIntervalMs: positive(options.writeIntervalMs ?? 10, 'streams.writeIntervalMs'),
        clock: deps.clock,
        log: deps.log,
        onWritten: (runIds) => this.#wakes.notify(runIds),
      });
    }
  }

  /** Where the engine writes progress and step markers; undefined when parts are not kept. */
  get sink(): RunStreamSink | undefined {
    const writer = this.#writer;
    return writer
      ? {
          write: (part) => writer.write(part),
          flush: () => writer.flush(),
        }
      : undefined;
  }

  /** Routes a live model call's delta (the agents layer's stream) onto its run's stream. */
  onModelStream(event: ModelStreamEvent): void {
    const part = modelStreamPart(event, this.#clock());
    if (part) this.#writer?.write(part);
  }

  /** Wakes this process's readers of runs whose journal writes just committed. */
  onCommitted(writes: readonly JournalWrite[]): void {
    // Every commit comes here: with no reader waiting (the usual case), there is nothing to build.
    if (this.#wakes.idle) return;
    this.#wakes.notify(writes.map((write) => write.runId));
  }

  /** This process stopped running the run: a later activation here checks for calls left open elsewhere. */
  onActivationEnd(runId: string): void {
    this.#writer?.release(runId);
  }

  /** A run's live stream (see readRunStream). */
  read(runId: string, options: RunStreamReadOptions = {}): AsyncGenerator<RunStreamPart, void, undefined> {
    return readRunStream({ store: this.#store, wakes: this.#wakes, clock: this.#clock }, runId, {
      pollMs: this.#pollMs,
      ...options,
    });
  }

  /** Readers open in this process, timers held by waiting readers, parts waiting to be written. */
  stats(): { readers: number; waiting: number; buffered: number } {
    return {
      readers: this.#wakes.readers,
      waiting: this.#wakes.waiting,
      buffered: this.#writer?.buffered ?? 0,
    };
  }

  /** Writes what is buffered (tests and benchmarks wait on it). */
  flush(): Promise<void> {
    return this.#writer?.flush() ?? Promise.resolve();
  }

  /** Deletes parts past retention now; returns how many. */
  async prune(): Promise<number> {
    if (!this.#store.runStreams) return 0;
    return this.#store.runStreams.pruneParts({
      olderThan: this.#clock() - this.#retentionMs,
      maxPartsPerRun: this.#maxPartsPerRun,
    });
  }

  /** Prunes every `pruneEvery` (processes that run a worker). */
  startPruning(): void {
    if (this.#pruner || !this.#store.runStreams || !this.#writer) return;
    this.#pruner = setInterval(() => {
      this.prune().catch((error: unknown) => this.#log('Pruning live stream parts failed', error));
    }, this.#pruneEveryMs);
    this.#pruner.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#pruner);
    await this.flush();
    await this.#wakes.close();
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name} is a whole number ≥ 1, got ${String(value)}.`);
  return value;
}

/** The stream part of one delta of a live model call. */
export function modelStreamPart(event: ModelStreamEvent, at: number): NewStreamPart | undefined {
  const base = { runId: event.runId, op: event.op, at };
  const who = { agent: event.agent };
  switch (event.type) {
    case 'start':
      return { ...base, type: 'model-start', data: { ...who, attempt: event.attempt } };
    case 'text':
      return { ...base, type: 'text-delta', data: { ...who, delta: event.delta ?? '' } };
    case 'reasoning':
      return { ...base, type: 'reasoning-delta', data: { ...who, delta: event.delta ?? '' } };
    case 'tool-input':
      return event.delta === undefined
        ? {
            ...base,
            type: 'tool-input-start',
            data: { ...who, callId: event.callId, toolName: event.toolName },
          }
        : { ...base, type: 'tool-input-delta', data: { ...who, callId: event.callId, delta: event.delta } };
    case 'tool-call':
      return { ...base, type: 'tool-call', data: { ...who, callId: event.callId, toolName: event.toolName } };
    case 'finish':
      return { ...base, type: 'model-finish', data: { ...who, finishReason: event.finishReason ?? 'other' } };
    case 'error':
      return { ...base, type: 'model-error', data: { ...who, error: event.error ?? 'error' } };
    default:
      return undefined;
  }
}
