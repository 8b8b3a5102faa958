/**
 * The `runStreams` capability of the Store spec: the ephemeral parts of runs' live streams (model
 * token deltas, progress a workflow writes, step-started markers), kept in a table that readers in
 * any process tail. Not the journal: parts are not hash-chained, may be pruned, and a crash may
 * lose the last few. Each part records `afterSeq`, the run's committed journal head when it was
 * written, so a reader can interleave parts with journal events under one cursor
 * (docs/decisions/0018-live-run-streams.md).
 */
export interface RunStreamStore {
  readonly specificationVersion: 'v1';

  /**
   * Appends parts, in order, each run's numbered after its last (1, 2, 3…; numbers are never
   * reused, pruning keeps a run's last part). `afterSeq` is the run's last committed seq at the
   * time of the write. Written without waiting for the disk where the backend allows it: parts are
   * ephemeral. Wakes readers in other processes where the backend can (PostgreSQL NOTIFY).
   */
  appendParts(parts: readonly NewStreamPart[]): Promise<void>;

  /** The run's parts numbered after `afterId`, in order, at most `limit`. */
  readParts(runId: string, afterId: number, limit: number): Promise<StreamPartRecord[]>;

  /** The first part still kept and the last part written (0 and 0 when the run has none). */
  partBounds(runId: string): Promise<{ first: number; last: number }>;

  /**
   * Closes the model calls a dead or stopped worker left open: when a `model-start` part has no
   * later `model-finish`, `model-error` or `interrupted` part, appends one `interrupted` part naming
   * their ops, in one transaction, and returns it. Returns undefined when nothing was open.
   */
  interruptOpenCalls(runId: string, now: number, reason: string): Promise<StreamPartRecord | undefined>;

  /**
   * Deletes parts written before `olderThan`, and parts beyond the newest `maxPartsPerRun` of each
   * run; never a run's last part (so numbers are never reused). Returns how many were deleted.
   */
  pruneParts(options: { olderThan: number; maxPartsPerRun: number }): Promise<number>;

  /**
   * Optional: calls `onAppend(runId)` when another process appended parts to a run (PostgreSQL
   * LISTEN/NOTIFY). A hint: readers poll as well. Resolves with the function that unsubscribes.
   */
  subscribeParts?(onAppend: (runId: string) => void): Promise<() => Promise<void>>;
}

/** A part as a writer gives it. */
export interface NewStreamPart {
  runId: string;
  /** The part's kind: `text-delta`, `model-start`, `progress`, `step-started`… */
  type: string;
  /** The op the part belongs to (a model call's, a step's), when it belongs to one. */
  op?: number;
  /** The part's fields, JSON. */
  data: Record<string, unknown>;
  /** Epoch ms. */
  at: number;
}

/** A part as kept. */
export interface StreamPartRecord extends NewStreamPart {
  /** The part's number in its run: 1, 2, 3… */
  id: number;
  /** The run's last committed journal seq when the part was written. */
  afterSeq: number;
}

/** Parts that open a model call, and those that close one (see {@link RunStreamStore.interruptOpenCalls}). */
export const OPENING_PART = 'model-start';
export const CLOSING_PARTS: readonly string[] = ['model-finish', 'model-error', 'interrupted'];
