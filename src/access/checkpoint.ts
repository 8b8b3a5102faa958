import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { CheckpointRecord } from '../store/checkpoints.ts';
import { keyIdOf, type SigningKey } from './signing-key.ts';

/** What a checkpoint signature covers, versioned so the format can change without confusion. */
export const CHECKPOINT_FORMAT = 'baton.checkpoint/1';

/** The exact bytes signed: canonical JSON of the format, run, seq, head hash, time and key id. */
export function checkpointMessage(checkpoint: Omit<CheckpointRecord, 'signature'>): Buffer {
  const { runId, seq, headHash, signedAt, keyId } = checkpoint;
  return Buffer.from(canonicalJson({ format: CHECKPOINT_FORMAT, runId, seq, headHash, signedAt, keyId }));
}

/**
 * Signs a run's chain head: "the journal of `runId` had `headHash` as the hash of event `seq`".
 * The signature covers the whole chain up to `seq`, since each hash covers the one before it.
 *
 * @example const checkpoint = signCheckpoint(key, run.runId, run.lastSeq, run.headHash);
 */
export function signCheckpoint(
  key: SigningKey,
  runId: string,
  seq: number,
  headHash: string,
  now = Date.now(),
): CheckpointRecord {
  const body = { runId, seq, headHash, signedAt: new Date(now).toISOString(), keyId: key.keyId };
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
