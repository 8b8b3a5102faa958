import { ConfigError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import { GENESIS_HASH, hashEvent } from '../journal/hash-chain.ts';
import { statusAfter } from '../journal/run-facts.ts';
import type { CheckpointRecord, CheckpointStore } from '../store/checkpoints.ts';
import type { RunRecord, Store } from '../store/store.ts';
import { signCheckpoint } from './checkpoint.ts';
import { SigningKey } from './signing-key.ts';
import { WitnessLog } from './witness-log.ts';

export interface CheckpointSignerOptions {
  /** A run still going is signed again when it has this many new events… Default 500. */
  everyEvents?: number;
  /** …or when its last checkpoint is older than this (ms). Default 60 s. */
  intervalMs?: number;
  /** The worker whose long activations are signed periodically (runs it leases). */
  workerId?: string;
  /**
   * A witness log file (src/access/witness-log.ts): every checkpoint is also appended there, an
   * outside anchor `baton verify --witness` checks the store against. Keep it off the database's disk.
   */
  witness?: string;
  clock?: () => number;
  log?: (message: string, error?: unknown) => void;
}

/** How a deployment signs: the key (or where it is) and how often. */
export interface SigningOptions extends CheckpointSignerOptions {
  key?: SigningKey;
  /** The private key's PEM file; it must exist. */
  keyFile?: string;
  /** Without `key` or `keyFile`: where the deployment key is kept, created on first use. Default `.baton/keys`. */
  keyDirectory?: string;
}

/** What the signer last signed of a run. */
interface Signed {
  seq: number;
  hash: string;
  at: number;
}

/**
 * Signs runs' chain heads with the deployment key, with the run's status at the head (a run's last
 * event is signed final): when a run finishes, when a long run parks after
 * many events or a while, and every `intervalMs` for the runs this worker is executing. Before it
 * signs, it checks the events written since the last checkpoint chain onto it, so it never vouches
 * for a journal that was altered in between (it logs and skips such a run instead).
 *
 * Failure semantics: signing is best effort and off the run's path. A crash before a run's
 * checkpoint is written leaves the run unsigned until it is signed again (`signRun`, `baton verify`
 * reports unsigned finished runs); a run is never slowed or failed by signing.
 */
export class CheckpointSigner {
  readonly key: SigningKey;
  readonly #store: Store;
  readonly #checkpoints: CheckpointStore;
  readonly #everyEvents: number;
  readonly #intervalMs: number;
  readonly #workerId: string | undefined;
  readonly #clock: () => number;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #witness: WitnessLog | undefined;
  readonly #signed = new Map<string, Signed>();
  /** One signing at a time per run, in order. */
  readonly #queues = new Map<string, Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(store: Store, key: SigningKey, options: CheckpointSignerOptions = {}) {
    if (!store.checkpoints) {
      throw new ConfigError(
        `The store at ${store.location} keeps no checkpoints (Store.checkpoints), so runs cannot be signed: ` +
          'turn `signing` off, or use a store that has them.',
      );
    }
    this.#store = store;
    this.#checkpoints = store.checkpoints;
    this.key = key;
    this.#everyEvents = options.everyEvents ?? 500;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#workerId = options.workerId;
    this.#clock = options.clock ?? Date.now;
    this.#witness = options.witness === undefined ? undefined : new WitnessLog(options.witness);
    this.#log = options.log ?? ((message, error) => console.error(`[baton] ${message}`, error ?? ''));
  }

  /** A signer with the key named in `options` (loaded, or created in `.baton/keys/`). */
  static async open(store: Store, options: SigningOptions = {}): Promise<CheckpointSigner> {
    const key =
      options.key ??
      (await SigningKey.open({
        ...(options.keyFile === undefined ? {} : { file: options.keyFile }),
        ...(options.keyDirectory === undefined ? {} : { directory: options.keyDirectory }),
      }));
    return new CheckpointSigner(store, key, options);
  }

  /**
   * Signs the run's current head if it has events not yet signed. Resolves with the checkpoint,
   * or undefined when there was nothing new or the new events do not chain (logged).
   */
  signRun(runId: string): Promise<CheckpointRecord | undefined> {
    const previous = this.#queues.get(runId) ?? Promise.resolve();
    const next = previous.then(() => this.#sign(runId));
    const settled = next.catch(() => undefined);
    this.#queues.set(runId, settled);
    void settled.then(() => {
      if (this.#queues.get(runId) === settled) this.#queues.delete(runId);
    });
    return next;
  }

  /** For Baton's `onActivationEnd`: signs finished runs, and parked ones that are due. Never throws. */
  readonly onActivationEnd = (run: RunRecord, outcome: { status: string }): void => {
    const finished =
      outcome.status === 'completed' ||
      outcome.status === 'failed' ||
      outcome.status === 'cancelled' ||
      outcome.status === 'timed_out' ||
      outcome.status === 'continued';
    if (!finished && !this.#due(run.runId, undefined)) return;
    this.signRun(run.runId)
      .then(() => {
        if (finished) this.#signed.delete(run.runId);
      })
      .catch((error: unknown) =>
        this.#log(`signing a checkpoint of run ${run.runId} failed; it stays unsigned for now`, error),
      );
  };

  /** Starts signing, every `intervalMs`, the runs this worker is executing. */
  start(): void {
    if (this.#timer || this.#workerId === undefined) return;
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for signings under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Waits for every signing under way. */
  async flush(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()]);
  }

  async #tick(): Promise<void> {
    try {
      const running = await this.#store.listRuns({ status: ['running'], limit: 10_000 });
      for (const run of running) {
        if (run.leaseOwner !== this.#workerId || !this.#due(run.runId, run.lastSeq)) continue;
        await this.signRun(run.runId).catch((error: unknown) =>
          this.#log(`signing run ${run.runId} failed`, error),
        );
      }
    } catch (error) {
      this.#log('periodic checkpoint signing failed; trying again at the next interval', error);
    }
  }

  /** True when the run has not been signed for a while or for many events (or never, by this signer). */
  #due(runId: string, lastSeq: number | undefined): boolean {
    const signed = this.#signed.get(runId);
    if (!signed) return true;
    if (lastSeq !== undefined && lastSeq <= signed.seq) return false;
    if (lastSeq !== undefined && lastSeq - signed.seq >= this.#everyEvents) return true;
    return this.#clock() - signed.at >= this.#intervalMs;
  }

  async #sign(runId: string): Promise<CheckpointRecord | undefined> {
    let from = this.#signed.get(runId);
    if (!from) {
      const existing = (await this.#checkpoints.listCheckpoints(runId)).filter(
        (c) => c.keyId === this.key.keyId,
      );
      const last = existing[existing.length - 1];
      if (last) from = { seq: last.seq, hash: last.headHash, at: Date.parse(last.signedAt) };
    }
    const events = await this.#store.readEvents(runId, (from?.seq ?? 0) + 1);
    if (events.length === 0) return undefined;
    const broken = firstBreak(events, from?.seq ?? 0, from?.hash ?? GENESIS_HASH);
    if (broken !== undefined) {
      this.#log(
        `run ${runId}: event ${broken} does not chain onto the last signed head; not signing it. ` +
          `Run 'baton verify ${runId}' to see what changed.`,
      );
      return undefined;
    }
    const head = events[events.length - 1]!;
    const now = this.#clock();
    const checkpoint = signCheckpoint(this.key, runId, head.seq, head.hash, now, statusAfter(head));
    await this.#checkpoints.putCheckpoint(checkpoint);
    this.#witness?.append(checkpoint);
    this.#signed.set(runId, { seq: head.seq, hash: head.hash, at: now });
    return checkpoint;
  }
}

/** The seq of the first event that does not chain on from (`seq`, `hash`), if any. */
function firstBreak(events: readonly JournalEvent[], seq: number, hash: string): number | undefined {
  let prevSeq = seq;
  let prevHash = hash;
  for (const event of events) {
    if (event.seq !== prevSeq + 1 || event.prevHash !== prevHash || hashEvent(event) !== event.hash)
      return event.seq;
    prevSeq = event.seq;
    prevHash = event.hash;
  }
  return undefined;
}
