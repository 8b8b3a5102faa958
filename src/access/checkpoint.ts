import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalRunStatus } from '../journal/run-facts.ts';
import type { CheckpointRecord } from '../store/checkpoints.ts';
import { keyIdOf, type SigningKey } from './signing-key.ts';

/** What a checkpoint signature covers, versioned so the format can change without confusion. */
export const CHECKPOINT_FORMAT = 'baton.checkpoint/1';
/** Format 2 also signs the run's status at the head, and whether the run ended there (`final`). */
export const CHECKPOINT_FORMAT_2 = 'baton.checkpoint/2';

/**
 * The exact bytes signed: canonical JSON of the format, run, seq, head hash, time and key id; with
 * a status (format 2), also the status and `final` (the run ended at this seq).
 */
export function checkpointMessage(checkpoint: Omit<CheckpointRecord, 'signature'>): Buffer {
  const { runId, seq, headHash, signedAt, keyId, status } = checkpoint;
  if (status === undefined)
    return Buffer.from(canonicalJson({ format: CHECKPOINT_FORMAT, runId, seq, headHash, signedAt, keyId }));
  return Buffer.from(
    canonicalJson({
      format: CHECKPOINT_FORMAT_2,
      runId,
      seq,
      headHash,
      signedAt,
      keyId,
      status,
      final: isFinal(checkpoint),
    }),
  );
}

/** True when the checkpoint says the run ended at its seq (a signed final mark). */
export function isFinal(checkpoint: Pick<CheckpointRecord, 'status'>): boolean {
  return (
    checkpoint.status === 'completed' || checkpoint.status === 'failed' || checkpoint.status === 'cancelled'
  );
}

/**
 * Signs a run's chain head: "the journal of `runId` had `headHash` as the hash of event `seq`, and
 * the run was `status` there". The signature covers the whole chain up to `seq`, since each hash
 * covers the one before it; a final status marks the end of the run, so a journal cut back to an
 * earlier checkpoint, or grown past a final one, no longer verifies.
 *
 * @example const checkpoint = signCheckpoint(key, run.runId, run.lastSeq, run.headHash, Date.now(), 'completed');
 */
export function signCheckpoint(
  key: SigningKey,
  runId: string,
  seq: number,
  headHash: string,
  now = Date.now(),
  status?: JournalRunStatus,
): CheckpointRecord {
  const body = {
    runId,
    seq,
    headHash,
    signedAt: new Date(now).toISOString(),
    keyId: key.keyId,
    ...(status === undefined ? {} : { status }),
  };
  return { ...body, signature: sign(null, checkpointMessage(body), key.privateKey).toString('base64url') };
}

/** True when the checkpoint's signature is valid under `publicKey` (and names that key). */
export function verifyCheckpoint(checkpoint: CheckpointRecord, publicKey: KeyObject): boolean {
  if (checkpoint.keyId !== keyIdOf(publicKey)) return false;
  try {
    return verify(
      null,
      checkpointMessage(checkpoint),
      publicKey,
      Buffer.from(checkpoint.signature, 'base64url'),
    );
  } catch {
    return false;
  }
}
