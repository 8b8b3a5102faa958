/**
 * Signed checkpoints of runs' hash chains, an optional capability of the Store spec
 * (`Store.checkpoints`). A checkpoint says: the deployment's key `keyId` signed that run `runId`'s
 * journal had `headHash` as the hash of its event `seq`, at `signedAt`. The store keeps them as they
 * are given; the access layer (src/access) signs and verifies them.
 */
export interface CheckpointRecord {
  runId: string;
  seq: number;
  headHash: string;
  /** ISO-8601. */
  signedAt: string;
  /** Which key signed: the first 16 hex digits of sha256 over the raw Ed25519 public key. */
  keyId: string;
  /** Ed25519 signature, base64url. */
  signature: string;
  /**
   * What the journal said of the run at `seq` when it was signed: `completed`, `failed` or
   * `cancelled` for a final checkpoint (the run ended at `seq`), else `unfinished`. Signed with the
   * head (checkpoint format 2); absent on checkpoints of format 1.
   */
  status?: string;
}

export interface CheckpointStore {
  /** Keeps a checkpoint. Putting one already kept (same run, seq and key) does nothing. */
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void>;
  /** The run's checkpoints, by seq then key. With a scope, none unless the run is in that tenant. */
  listCheckpoints(runId: string, scope?: { tenant: string }): Promise<CheckpointRecord[]>;
}
