import type { KeyObject } from 'node:crypto';
import { JournalCorruptError, RunNotFoundError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import { verifyChain, type ChainBreak } from '../journal/hash-chain.ts';
import {
  recordDisagreements,
  runFacts,
  statusAfter,
  type JournalRunStatus,
  type RecordDisagreement,
  type RunRecordFields,
} from '../journal/run-facts.ts';
import type { CheckpointRecord } from '../store/checkpoints.ts';
import { isTerminal, type RunStatus, type Store, type TenantScope } from '../store/store.ts';
import { verifyCheckpoint } from './checkpoint.ts';
import { keyIdOf, toPublicKey, type PublicKeyInput } from './signing-key.ts';
import type { WitnessRead } from './witness-log.ts';

/** What is wrong with a run's journal, at the first place it shows. */
export type VerificationProblem =
  /** A link of the hash chain: a seq out of order or missing, a prevHash or hash that does not match. */
  | ChainBreak
  /** An event the store cannot read back (its JSON was altered). */
  | { kind: 'unreadable'; seq: number; expected: string; found: string }
  /** The run record and the journal disagree on where the journal ends (an event deleted at the end). */
  | { kind: 'head'; seq: number; expected: string; found: string }
  /** A signed checkpoint names a head (or a status) the journal no longer has (rewritten or truncated history). */
  | { kind: 'checkpoint'; seq: number; expected: string; found: string }
  /** A checkpoint whose signature does not verify. */
  | { kind: 'signature'; seq: number; keyId: string; reason: string }
  /** Signed with another key than the trusted one. */
  | { kind: 'key'; seq: number | undefined; expected: string; found: string }
  /** Something that should be signed is not, or cannot be checked (no key): verification fails closed. */
  | { kind: 'unsigned'; seq: number | undefined; reason: string }
  /** The run record says something else than the journal about the run (`field`: principal, result…). */
  | { kind: 'record'; seq: number; field: RecordDisagreement['field']; expected: string; found: string }
  /** Events after the end of the run: after its terminal event, or after a checkpoint that signed its end. */
  | { kind: 'final'; seq: number; expected: string; found: string }
  /** The witness log holds a checkpoint the journal no longer matches (cut back, or rewritten). */
  | { kind: 'witness'; seq: number; expected: string; found: string }
  /** A bundle of a run that had not ended: it proves a prefix only (refused unless accepted explicitly). */
  | { kind: 'unfinished'; seq: number; reason: string };

export interface RunVerification {
  runId: string;
  ok: boolean;
  /** Events read. */
  events: number;
  /** Hash of the last event that chains correctly. */
  head: string;
  /** The highest seq covered by a valid checkpoint, if any. */
  signedSeq: number | undefined;
  /** True when a valid checkpoint signs the run's end at its last event. */
  final: boolean;
  /** The status the journal holds (completed, failed, cancelled, or unfinished). */
  status: JournalRunStatus | undefined;
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
  /** What the run record (or a bundle's run summary) says of the run, checked against the journal. */
  record?: RunRecordFields;
  checkpoints: readonly CheckpointRecord[];
  /** The newest checkpoint of this run in the witness log, if one is kept. */
  witnessed?: CheckpointRecord;
}

/** How strict a verification is. */
export interface EvidenceRules {
  /**
   * Accept what is not signed: verification without a key (chain and record only), and finished
   * runs no final checkpoint covers. For deployments that do not sign. Default false: fail closed.
   */
  allowUnsigned?: boolean;
}

/**
 * Checks a journal against its hash chain, its run record and its signed checkpoints. Checkpoints
 * are verified with `keys` (by key id); a checkpoint by a key not in `keys` is a `key` problem.
 *
 * Fails closed: with no key, or a finished run whose last event no valid checkpoint signs, or a
 * run record that disagrees with the journal, the result is not ok (unless `allowUnsigned` accepts
 * the first two). A valid checkpoint that signs the end of the run (or the witness's) makes any
 * event after it a `final` problem.
 */
export function verifyEvidence(
  evidence: JournalEvidence,
  keys: readonly KeyObject[],
  rules: EvidenceRules = {},
): RunVerification {
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
  const facts = runFacts(events);
  // A run resumed in place (run.resumed right after its end) goes on: its end is the last one.
  const resumedAt = (index: number): boolean => events[index + 1]?.type === 'run.resumed';
  const end = events.findIndex((event, index) => statusAfter(event) !== 'unfinished' && !resumedAt(index));
  const byId = new Map(keys.map((key) => [keyIdOf(key), key]));
  let signedSeq: number | undefined;
  let finalSeq: number | undefined;
  if (byId.size > 0) {
    for (const checkpoint of [...evidence.checkpoints].sort((a, b) => a.seq - b.seq)) {
      const problem = checkpointProblem(checkpoint, byId, evidence);
      if (problem) {
        problems.push(problem);
        continue;
      }
      signedSeq = Math.max(signedSeq ?? 0, checkpoint.seq);
      // A checkpoint of format 1 at a terminal event is final too: its hash covers the event's type.
      if (statusAfter(events[checkpoint.seq - 1]) !== 'unfinished')
        finalSeq = Math.max(finalSeq ?? 0, checkpoint.seq);
    }
    const witnessed = evidence.witnessed;
    if (witnessed) {
      const problem = checkpointProblem(witnessed, byId, evidence);
      if (problem) {
        problems.push(
          problem.kind === 'checkpoint'
            ? {
                kind: 'witness',
                seq: witnessed.seq,
                expected: problem.expected,
                found:
                  problem.found === 'no event'
                    ? `no event (the journal ends at seq ${events.length})`
                    : problem.found,
              }
            : problem,
        );
      } else if (statusAfter(events[witnessed.seq - 1]) !== 'unfinished') {
        finalSeq = Math.max(finalSeq ?? 0, witnessed.seq);
      }
    }
  }
  if (end >= 0 && end < events.length - 1) {
    problems.push({
      kind: 'final',
      seq: end + 2,
      expected: `no event after the run ended at seq ${end + 1} (${events[end]!.type})`,
      found: events[end + 1]!.type,
    });
  } else if (
    finalSeq !== undefined &&
    events.length > finalSeq &&
    // A resume in place is signed when it is journaled: a reopening no key signed is a forgery.
    !(resumedAt(finalSeq - 1) && signedSeq !== undefined && signedSeq > finalSeq)
  ) {
    problems.push({
      kind: 'final',
      seq: finalSeq + 1,
      expected: `no event after seq ${finalSeq}, signed as the end of the run`,
      found: events[finalSeq]!.type,
    });
  }
  if (evidence.record && facts) {
    for (const disagreement of recordDisagreements(evidence.record, facts)) {
      problems.push({
        kind: 'record',
        seq: disagreement.field === 'status' || disagreement.field === 'result' ? events.length : 1,
        field: disagreement.field,
        expected: disagreement.journal,
        found: disagreement.record,
      });
    }
  }
  const finished =
    facts?.status !== undefined && facts.status !== 'unfinished'
      ? true
      : evidence.record !== undefined && isTerminal(evidence.record.status as RunStatus);
  const final = finalSeq !== undefined && finalSeq === events.length;
  if (!rules.allowUnsigned) {
    const unsigned = unsignedProblem(evidence, byId.size, finished && !final, problems);
    if (unsigned) problems.push(unsigned);
  }
  const result: RunVerification = {
    runId: evidence.runId,
    ok: problems.length === 0,
    events: events.length,
    head: chain.head,
    signedSeq,
    final,
    status: facts?.status,
    checkpoints: evidence.checkpoints.length,
    problems,
  };
  if (problems[0]) result.problem = problems[0];
  return result;
}

export interface VerifyOptions extends EvidenceRules {
  /** Verify only a run of this tenant (another tenant's run is not found). */
  tenant?: string;
  /** The witness log, read ({@link WitnessLog.read}): each run's newest witnessed checkpoint must still match. */
  witness?: WitnessRead;
}

/**
 * Verifies one run in a store: every link of its hash chain, the run record's head and what it
 * says of the run (principal, tenant, input, status, result, parent), and every signed checkpoint
 * under `publicKey` (or any of several keys, after a rotation). Reports the first broken link (seq,
 * expected, found) or bad signature.
 *
 * Fails closed: a finished run must have a valid checkpoint signing its last event, and a run
 * record must agree with its journal; `allowUnsigned` accepts unsigned runs (for deployments that
 * do not sign). With a `witness`, the run's newest witnessed checkpoint must still match its journal,
 * which catches a journal cut back to an earlier checkpoint.
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
    if (!JournalCorruptError.isInstance(error)) throw error;
    const seq = error.seq;
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
      final: false,
      status: undefined,
      checkpoints: checkpoints.length,
      problem,
      problems: [problem],
    };
  }
  const witnessed = options.witness?.latest.get(runId);
  return verifyEvidence(
    {
      runId,
      events,
      lastSeq: run.lastSeq,
      headHash: run.headHash,
      record: run,
      checkpoints,
      ...(witnessed ? { witnessed } : {}),
    },
    keys,
    options,
  );
}

export interface VerifyAllReport {
  runs: number;
  ok: number;
  failed: RunVerification[];
  /** Finished runs with no valid final checkpoint (failed, unless `allowUnsigned`). */
  unsigned: string[];
  /** Runs the witness log holds that the store does not (deleted runs); checked without a tenant only. */
  missing: string[];
}

/**
 * Verifies every run of the store (or of a tenant), newest first, calling `onRun` with each report.
 * With a witness log (and no tenant), a run the witness holds and the store lacks is `missing`.
 */
export async function verifyAll(
  store: Store,
  publicKey: PublicKeyInput | readonly PublicKeyInput[],
  options: VerifyOptions & { onRun?: (report: RunVerification) => void; pageSize?: number } = {},
): Promise<VerifyAllReport> {
  const report: VerifyAllReport = { runs: 0, ok: 0, failed: [], unsigned: [], missing: [] };
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
      const finished = result.status !== undefined && isTerminal(result.status as RunStatus);
      if (
        finished &&
        !result.final &&
        (result.ok || result.problems.some((problem) => problem.kind === 'unsigned'))
      ) {
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
  if (options.witness && options.tenant === undefined) {
    for (const runId of options.witness.latest.keys()) if (!seen.has(runId)) report.missing.push(runId);
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
    case 'unfinished':
      return problem.reason;
    case 'record':
      return `the run record's ${problem.field} reads ${clip(problem.found)}, its journal ${clip(problem.expected)} (the run record was edited, or the journal cut back)`;
    case 'final':
      return `seq ${problem.seq}: expected ${problem.expected}, found ${problem.found} (events were added after the run ended)`;
    case 'witness':
      return `seq ${problem.seq}: the witness log holds head ${problem.expected}, the journal has ${problem.found} (the journal was cut back or rewritten after it was witnessed)`;
  }
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** Why a run counts as unsigned: no key to check with, or an ended run no valid checkpoint signs. */
function unsignedProblem(
  evidence: JournalEvidence,
  keys: number,
  endedUnsigned: boolean,
  problems: readonly VerificationProblem[],
): VerificationProblem | undefined {
  const events = evidence.events;
  if (keys === 0) {
    return {
      kind: 'unsigned',
      seq: undefined,
      reason:
        `no public key to check signatures with, so ${evidence.checkpoints.length} checkpoint(s) of run ` +
        `${evidence.runId} cannot be checked (give the deployment's public key, or accept unsigned runs explicitly)`,
    };
  } else if (
    endedUnsigned &&
    !problems.some((p) => p.kind === 'checkpoint' || p.kind === 'signature' || p.kind === 'key')
  ) {
    return {
      kind: 'unsigned',
      seq: events.length,
      reason:
        `run ${evidence.runId} has ended, but no valid checkpoint signs its last event (seq ${events.length}): ` +
        'it was never signed (a worker without `signing` finished it), or its history was rewritten and its checkpoints removed',
    };
  }
  return undefined;
}

/** A valid checkpoint, under a trusted key, matching the journal; else the problem it shows. */
function checkpointProblem(
  checkpoint: CheckpointRecord,
  byId: ReadonlyMap<string, KeyObject>,
  evidence: JournalEvidence,
): VerificationProblem | undefined {
  const events = evidence.events;
  const key = byId.get(checkpoint.keyId);
  if (!key) {
    return {
      kind: 'key',
      seq: checkpoint.seq,
      expected: [...byId.keys()].join(' or ') || 'a trusted key',
      found: checkpoint.keyId,
    };
  }
  if (checkpoint.runId !== evidence.runId || !verifyCheckpoint(checkpoint, key)) {
    return {
      kind: 'signature',
      seq: checkpoint.seq,
      keyId: checkpoint.keyId,
      reason:
        checkpoint.runId !== evidence.runId
          ? `it is a checkpoint of run ${checkpoint.runId}`
          : 'the signature does not verify',
    };
  }
  const event = events[checkpoint.seq - 1];
  if (!event || event.seq !== checkpoint.seq || event.hash !== checkpoint.headHash) {
    return {
      kind: 'checkpoint',
      seq: checkpoint.seq,
      expected: checkpoint.headHash,
      found: event?.hash ?? 'no event',
    };
  }
  if (checkpoint.status !== undefined && checkpoint.status !== statusAfter(event)) {
    return {
      kind: 'checkpoint',
      seq: checkpoint.seq,
      expected: `status ${checkpoint.status}`,
      found: `status ${statusAfter(event)}`,
    };
  }
  return undefined;
}
