import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { CheckpointRecord } from '../store/checkpoints.ts';
import { WitnessLogError } from './access-errors.ts';

export const WITNESS_FORMAT = 'baton.witness/1';

/** One line of a witness log: a checkpoint, its place in the log, and the hash linking it to the line before. */
export interface WitnessEntry {
  format: typeof WITNESS_FORMAT;
  index: number;
  /** The `hash` of the entry before (64 zeros for the first). */
  prev: string;
  checkpoint: CheckpointRecord;
  /** sha256 over the canonical JSON of format, index, prev and checkpoint. */
  hash: string;
}

/** What a witness log holds, read and checked from its first line. */
export interface WitnessRead {
  entries: WitnessEntry[];
  /** The hash of the last entry: publish it elsewhere to anchor the log itself. */
  head: string;
  /** The first line that does not link on (edited, removed or reordered entries). */
  broken?: { index: number; reason: string };
  /** The newest checkpoint of each run the log holds (highest seq), from the intact lines. */
  latest: Map<string, CheckpointRecord>;
}

const GENESIS = '0'.repeat(64);
const STALE_LOCK_MS = 30_000;

/**
 * An append-only, hash-linked record of checkpoints kept outside the store, in the spirit of
 * Certificate Transparency (RFC 9162): every checkpoint the deployment signs is also appended here,
 * each line linked to the one before. Someone who can rewrite the database but not this file cannot
 * cut a run back to an earlier checkpoint, or delete its checkpoints, without `baton verify
 * --witness` noticing. Keep it on another disk or host (or ship its lines elsewhere), and publish
 * its `head` now and then so the log itself cannot be cut unseen.
 *
 * Appends from several processes on one host are serialised by a lock file beside the log.
 *
 * @example
 * const witness = new WitnessLog('/var/lib/baton/witness.log');
 * witness.append(checkpoint);
 * const { latest } = witness.read();
 */
export class WitnessLog {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends a checkpoint (durably: the line is synced before this returns). */
  append(checkpoint: CheckpointRecord): WitnessEntry {
    mkdirSync(dirname(this.path), { recursive: true });
    const unlock = this.#lock();
    try {
      const last = this.#lastEntry();
      const body = {
        format: WITNESS_FORMAT,
        index: last ? last.index + 1 : 0,
        prev: last?.hash ?? GENESIS,
        checkpoint,
      } as const;
      const entry: WitnessEntry = { ...body, hash: entryHash(body) };
      const fd = openSync(this.path, 'a');
      try {
        writeSync(fd, `${JSON.stringify(entry)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return entry;
    } finally {
      unlock();
    }
  }

  /** Reads the log and checks its links. A missing file reads as an empty log. */
  read(): WitnessRead {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { entries: [], head: GENESIS, latest: new Map() };
      throw new WitnessLogError(`Cannot read the witness log ${this.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const entries: WitnessEntry[] = [];
    const latest = new Map<string, CheckpointRecord>();
    let prev = GENESIS;
    let broken: WitnessRead['broken'];
    const lines = text.split('\n').filter((line) => line.length > 0);
    for (let index = 0; index < lines.length; index++) {
      let entry: WitnessEntry;
      try {
        entry = JSON.parse(lines[index]!) as WitnessEntry;
      } catch {
        broken = { index, reason: `line ${index + 1} is not JSON` };
        break;
      }
      const reason =
        (entry.format as string) !== WITNESS_FORMAT
          ? `line ${index + 1} is not a ${WITNESS_FORMAT} entry`
          : entry.index !== index
            ? `line ${index + 1} says it is entry ${entry.index} (entries were removed or moved)`
            : entry.prev !== prev
              ? `entry ${index} does not link to the entry before it (an entry before it was changed or removed)`
              : entryHash(entry) !== entry.hash
                ? `entry ${index} was edited (its content does not hash to its recorded hash)`
                : undefined;
      if (reason !== undefined) {
        broken = { index, reason };
        break;
      }
      entries.push(entry);
      const known = latest.get(entry.checkpoint.runId);
      if (!known || entry.checkpoint.seq >= known.seq) latest.set(entry.checkpoint.runId, entry.checkpoint);
      prev = entry.hash;
    }
    return { entries, head: prev, latest, ...(broken ? { broken } : {}) };
  }

  #lastEntry(): WitnessEntry | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const end = text.trimEnd();
    if (end.length === 0) return undefined;
    return JSON.parse(end.slice(end.lastIndexOf('\n') + 1)) as WitnessEntry;
  }

  /** Takes the lock file (`<log>.lock`), waiting for another process; a lock older than 30 s is stale. */
  #lock(): () => void {
    const lock = `${this.path}.lock`;
    const deadline = Date.now() + STALE_LOCK_MS * 2;
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx'));
        return () => rmSync(lock, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
        } catch {
          // Released meanwhile.
        }
        if (Date.now() > deadline)
          throw new WitnessLogError(
            `The witness log ${this.path} stays locked by ${lock}; remove that file if no Baton process is writing.`,
          );
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }
}

function entryHash(entry: Omit<WitnessEntry, 'hash'>): string {
  const { format, index, prev, checkpoint } = entry;
  return createHash('sha256').update(canonicalJson({ format, index, prev, checkpoint })).digest('hex');
}
