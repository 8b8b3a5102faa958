/**
 * An optional capability of a {@link Store}: records that carry an embedding vector, for the
 * routing layer's semantic cache, long-term memory and capability index. A backend that offers it
 * sets `store.vectorRecords`; features that need it say so clearly when it is missing.
 *
 * Records live in a (collection, tenant, partition) scope and are unique by key within it. Every
 * read names the tenant: a record is never returned to another tenant. Vectors are compared in
 * memory by the routing layer (an HNSW index synced from {@link VectorRecordStore.scanVectorRecords});
 * the store keeps them durable.
 */
export interface VectorRecordStore {
  /** Writes a record, replacing one with the same key in the scope (the replacement gets a new id). */
  putVectorRecord(record: NewVectorRecord): Promise<VectorRecord>;
  /** The scope's records with these keys (missing keys are left out). */
  getVectorRecords(scope: VectorRecordScope, keys: readonly string[]): Promise<VectorRecord[]>;
  /** The scope's records with `id > afterId`, by id, at most `limit` (to sync an in-memory index). */
  scanVectorRecords(
    scope: VectorRecordScope,
    options?: { afterId?: number; limit?: number },
  ): Promise<VectorRecord[]>;
  /** Deletes the scope's records with these keys; returns how many were deleted. */
  deleteVectorRecords(scope: VectorRecordScope, keys: readonly string[]): Promise<number>;
  /**
   * Housekeeping across scopes: deletes records expired at `now` and records whose source run no
   * longer exists (in `collection` only, when given). Returns how many were deleted.
   */
  pruneVectorRecords(options: { now: number; collection?: string }): Promise<number>;
}

export interface VectorRecordScope {
  /** What kind of record: `cache`, `memory`, `capability`. */
  collection: string;
  tenant: string;
  /** A sub-space inside the tenant (a cache scope hash, an agent's name); '' for none. */
  partition: string;
}

export interface NewVectorRecord extends VectorRecordScope {
  key: string;
  /** The embedding space the vector belongs to (`embedder id/dimensions`). */
  space: string;
  vector: Float32Array;
  /** The text that was embedded, so the record can be re-embedded when the space changes. */
  text: string;
  /** JSON data kept with the record. */
  data: unknown;
  /** The run and journal seq the record came from, if any. */
  sourceRunId?: string;
  sourceSeq?: number;
  createdAt: number;
  /** When the record expires (epoch ms): readers treat it as absent after this; pruning deletes it. */
  expiresAt?: number;
}

export interface VectorRecord extends NewVectorRecord {
  /** Increases with every write in the store. */
  id: number;
  /** False when the record names a source run that no longer exists. */
  sourceExists: boolean;
}
