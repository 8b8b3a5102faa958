import type { KeyObject } from 'node:crypto';
import { BatonError, RunNotFoundError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import { verifyChain, type ChainBreak } from '../journal/hash-chain.ts';
import type { CheckpointRecord } from '../store/checkpoints.ts';
import { isTerminal, type Store, type TenantScope } from '../store/store.ts';
import { verifyCheckpoint } from './checkpoint.ts';
import { keyIdOf, toPublicKey, type PublicKeyInput } from './signing-key.ts';

/** What is wrong with a run's journal, at the first place it shows. */
export type VerificationProblem =
  /** A link of the hash chain: a seq out of order or missing, a prevHash or hash that does not match. */
  | ChainBreak
  /** An event the store cannot read back (its JSON was altered). */
  | { kind: 'unreadable'; seq: number; expected: string; found: string }
  /** The run record and the journal disagree on where the journal ends (an event deleted at the end). */
  | { kind: 'head'; seq: number; expected: string; found: string }
  /** A signed checkpoint names a head the journal no longer has (rewritten or truncated history). */
  | { kind: 'checkpoint'; seq: number; expected: string; found: string }
  /** A checkpoint whose signature does not verify. */
  | { kind: 'signature'; seq: number; keyId: string; reason: string }
  /** Signed with another key than the trusted one. */
  | { kind: 'key'; seq: number | undefined; expected: string; found: string }
  /** Nothing is signed (an audit bundle must carry at least one checkpoint). */
  | { kind: 'unsigned'; seq: number | undefined; reason: string };

export interface RunVerification {
  runId: string;
  ok: boolean;
  /** Events read. */
  events: number;
  /** Hash of the last event that chains correctly. */
  head: string;
  /** The highest seq covered by a valid checkpoint, if any. */
  signedSeq: number | undefined;
  checkpoints: number;
  /** The first problem, if any. */
  problem?: VerificationProblem;
  /** Every problem found (the chain stops at its first break). */
  problems: VerificationProblem[];
}

/** The journal of one run and what vouches for it, as read from a store or a bundle. */
export interface JournalEvidence {
  runId: string;
  events: readonly JournalEvent[];
  /** Where the run record says the journal ends, when there is a run record. */
  lastSeq?: number;
  headHash?: string;
  checkpoints: readonly CheckpointRecord[];
}

/**
 * Checks a journal against its hash chain, its run record and its signed checkpoints. Checkpoints
 * are verified with `keys` (by key id); a checkpoint by a key not in `keys` is a `key` problem.
 */
export function verifyEvidence(evidence: JournalEvidence, keys: readonly KeyObject[]): RunVerification {
  const problems: VerificationProblem[] = [];
  const chain = verifyChain(evidence.events, evidence.runId);
  if (chain.broken) problems.push(chain.broken);
  const events = evidence.events;
  const last = events[events.length - 1];
  if (evidence.lastSeq !== undefined && chain.ok) {
    if (
      events.length !== evidence.lastSeq ||
      (evidence.headHash !== undefined && last && last.hash !== evidence.headHash)
    ) {
      const seq = Math.max(evidence.lastSeq, events.length);
      problems.push({
        kind: 'head',
        seq,
        expected: evidence.lastSeq >= events.length ? (evidence.headHash ?? '') : 'no event',
        found: events[seq - 1]?.hash ?? 'no event',
      });
    }
  }
  const byId = new Map(keys.map((key) => [keyIdOf(key), key]));
  let signedSeq: number | undefined;
  for (const checkpoint of [...evidence.checkpoints].sort((a, b) => a.seq - b.seq)) {
    const key = byId.get(checkpoint.keyId);
    if (!key) {
      problems.push({
        kind: 'key',
        seq: checkpoint.seq,
        expected: [...byId.keys()].join(' or ') || 'a trusted key',
        found: checkpoint.keyId,
      });
      continue;
    }
    if (checkpoint.runId !== evidence.runId || !verifyCheckpoint(checkpoint, key)) {
      problems.push({
        kind: 'signature',
        seq: checkpoint.seq,
        keyId: checkpoint.keyId,
        reason:
          checkpoint.runId !== evidence.runId
            ? `it is a checkpoint of run ${checkpoint.runId}`
            : 'the signature does not verify',
      });
      continue;
    }
    const event = events[checkpoint.seq - 1];
    if (!event || event.seq !== checkpoint.seq || event.hash !== checkpoint.headHash) {
      problems.push({
        kind: 'checkpoint',
        seq: checkpoint.seq,
        expected: checkpoint.headHash,
        found: event?.hash ?? 'no event',
      });
      continue;
    }
    signedSeq = Math.max(signedSeq ?? 0, checkpoint.seq);
  }
  const result: RunVerification = {
    runId: evidence.runId,
    ok: problems.length === 0,
    events: events.length,
    head: chain.head,
    signedSeq,
    checkpoints: evidence.checkpoints.length,
    problems,
  };
  if (problems[0]) result.problem = problems[0];
  return result;
}

export interface VerifyOptions {
  /** Verify only a run of this tenant (another tenant's run is not found). */
  tenant?: string;
}

/**
 * Verifies one run in a store: every link of its hash chain, the run record's head, and every
 * signed checkpoint under `publicKey` (or any of several keys, after a rotation). Reports the first
 * broken link (seq, expected, found) or bad signature. A run with no checkpoint is verified by its
 * chain alone (`signedSeq` undefined): the chain shows edits, the signature shows a rewrite.
 *
 * @example
 * const report = await verifyRun(store, runId, key.publicKey);
 * if (!report.ok) console.log(describeProblem(report.problem!));
 */
export async function verifyRun(
  store: Store,
  runId: string,
  publicKey: PublicKeyInput | readonly PublicKeyInput[],
  options: VerifyOptions = {},
): Promise<RunVerification> {
  const scope: TenantScope | undefined =
    options.tenant === undefined ? undefined : { tenant: options.tenant };
  const keys = (Array.isArray(publicKey) ? publicKey : [publicKey]).map((key: PublicKeyInput) =>
    toPublicKey(key),
  );
  const run = await store.getRun(runId, scope);
  if (!run) throw new RunNotFoundError({ runId });
  const checkpoints = (await store.checkpoints?.listCheckpoints(runId, scope)) ?? [];
  let events: JournalEvent[];
  try {
    events = await store.readEvents(runId, 1, scope);
  } catch (error) {
    if (!(BatonError.isInstance(error) && error.code === 'JOURNAL_CORRUPT')) throw error;
    const seq = (error as unknown as { seq: number }).seq;
    const problem: VerificationProblem = {
      kind: 'unreadable',
      seq,
      expected: 'valid JSON',
      found: error.message,
    };
    return {
      runId,
      ok: false,
      events: 0,
      head: '',
      signedSeq: undefined,
      checkpoints: checkpoints.length,
      problem,
      problems: [problem],
    };
  }
  return verifyEvidence({ runId, events, lastSeq: run.lastSeq, headHash: run.headHash, checkpoints }, keys);
}

export interface VerifyAllReport {
  runs: number;
  ok: number;
  failed: RunVerification[];
  /** Finished runs with no valid checkpoint. */
  unsigned: string[];
}

/**
 * Verifies every run of the store (or of a tenant), newest first, calling `onRun` with each report.
 */
export async function verifyAll(
  store: Store,
  publicKey: PublicKeyInput | readonly PublicKeyInput[],
  options: VerifyOptions & { onRun?: (report: RunVerification) => void; pageSize?: number } = {},
): Promise<VerifyAllReport> {
  const report: VerifyAllReport = { runs: 0, ok: 0, failed: [], unsigned: [] };
  const seen = new Set<string>();
  let limit = options.pageSize ?? 500;
  let before: number | undefined;
  for (;;) {
    const page = await store.listRuns({
      limit,
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(before === undefined ? {} : { createdBefore: before }),
    });
    const fresh = page.filter((run) => !seen.has(run.runId));
    for (const run of fresh) {
      seen.add(run.runId);
      const result = await verifyRun(store, run.runId, publicKey, options);
      report.runs++;
      if (result.ok) report.ok++;
      else report.failed.push(result);
      if (result.ok && result.signedSeq === undefined && isTerminal(run.status)) {
        report.unsigned.push(run.runId);
      }
      options.onRun?.(result);
    }
    if (page.length < limit) break;
    // Pages are cut by creation time, and runs created in the same millisecond may straddle a
    // page: read that millisecond again (seen runs are skipped), with a larger page when it holds
    // more runs than one page.
    if (fresh.length === 0) limit *= 2;
    else before = page[page.length - 1]!.createdAt + 1;
  }
  return report;
}

/** One line for a person: where the journal breaks and how. */
export function describeProblem(problem: VerificationProblem): string {
  switch (problem.kind) {
    case 'seq':
      return `seq ${problem.seq}: expected event ${problem.expected} here, found ${problem.found} (an event was deleted, inserted or moved)`;
    case 'prevHash':
      return `seq ${problem.seq}: prevHash expected ${problem.expected}, found ${problem.found} (the event before it was changed, removed or moved)`;
    case 'hash':
      return `seq ${problem.seq}: content hashes to ${problem.expected}, but the event records ${problem.found} (the event was edited)`;
    case 'runId':
      return `seq ${problem.seq}: belongs to run ${problem.found}, expected ${problem.expected}`;
    case 'unreadable':
      return `seq ${problem.seq}: unreadable: ${problem.found}`;
    case 'head':
      return `seq ${problem.seq}: the run record ends its journal at ${problem.expected}, the journal has ${problem.found} (events were deleted or added at the end)`;
    case 'checkpoint':
      return `seq ${problem.seq}: signed head ${problem.expected}, the journal has ${problem.found} (history was rewritten after it was signed)`;
    case 'signature':
      return `seq ${problem.seq}: bad signature by key ${problem.keyId}: ${problem.reason}`;
    case 'key':
      return `${problem.seq === undefined ? '' : `seq ${problem.seq}: `}signed with key ${problem.found}, not the trusted key ${problem.expected}`;
    case 'unsigned':
      return problem.reason;
  }
}
