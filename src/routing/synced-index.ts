import type { VectorRecord, VectorRecordScope, VectorRecordStore } from '../store/vector-records.ts';
import { embedChecked, embeddingSpace, type Embedder } from './embedder.ts';
import { HnswIndex } from './hnsw-index.ts';
import type { VectorHit, VectorIndex } from './vector-index.ts';

/** Makes the in-memory index for a collection of the given dimensions. */
export type IndexFactory = (dimensions: number) => VectorIndex;

export const defaultIndexFactory: IndexFactory = (dimensions) => new HnswIndex({ dimensions });

/**
 * An in-memory vector index over one scope of the store's vector records, kept in step with the
 * store: `sync()` reads only records written since the last sync (by id), so other processes'
 * writes are picked up cheaply. Records embedded in another space (another embedder or number of
 * dimensions) are re-embedded from their text and rewritten — a rebuild, reported through `notify`.
 * Deletions made elsewhere are noticed when a hit's record is read back and found missing.
 */
export class SyncedIndex {
  readonly scope: VectorRecordScope;
  readonly index: VectorIndex;
  readonly #records: VectorRecordStore;
  readonly #embedder: Embedder;
  readonly #notify: (message: string) => void;
  /** The id each key's vector in the index came from. */
  readonly #ids = new Map<string, number>();
  #watermark = 0;
  #syncing: Promise<void> | undefined;

  constructor(args: {
    records: VectorRecordStore;
    scope: VectorRecordScope;
    embedder: Embedder;
    createIndex?: IndexFactory;
    notify?: (message: string) => void;
  }) {
    this.scope = args.scope;
    this.#records = args.records;
    this.#embedder = args.embedder;
    this.#notify = args.notify ?? (() => {});
    this.index = (args.createIndex ?? defaultIndexFactory)(args.embedder.dimensions);
  }

  get space(): string {
    return embeddingSpace(this.#embedder);
  }

  /** Reads the records written since the last sync into the index (one sync at a time). */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    for (;;) {
      const page = await this.#records.scanVectorRecords(this.scope, {
        afterId: this.#watermark,
        limit: 5000,
      });
      if (page.length === 0) return;
      const stale: VectorRecord[] = [];
      for (const record of page) {
        this.#watermark = Math.max(this.#watermark, record.id);
        if (record.space !== this.space) stale.push(record);
        else this.#put(record.key, record.id, record.vector);
      }
      if (stale.length > 0) await this.#reembed(stale);
    }
  }

  async #reembed(stale: readonly VectorRecord[]): Promise<void> {
    const from = [...new Set(stale.map((record) => record.space))].join(', ');
    this.#notify(
      `${describeScope(this.scope)}: ${stale.length} record(s) were embedded in ${from}, not ${this.space}; ` +
        `re-embedding them from their text and rebuilding the index.`,
    );
    const vectors = await embedChecked(
      this.#embedder,
      stale.map((record) => record.text),
    );
    for (const [index, record] of stale.entries()) {
      const { id: _id, sourceExists: _exists, ...rest } = record;
      const rewritten = await this.#records.putVectorRecord({
        ...rest,
        space: this.space,
        vector: vectors[index]!,
      });
      this.#put(rewritten.key, rewritten.id, rewritten.vector);
    }
  }

  #put(key: string, id: number, vector: Float32Array): void {
    if (this.#ids.get(key) === id) return;
    this.#ids.set(key, id);
    this.index.add(key, vector);
  }

  /** Adds a record this process has just written. */
  added(record: VectorRecord): void {
    if (record.space === this.space) this.#put(record.key, record.id, record.vector);
  }

  /** Forgets a key (its record was deleted, here or elsewhere). */
  removed(key: string): void {
    this.#ids.delete(key);
    this.index.remove(key);
  }

  search(vector: Float32Array, k: number): VectorHit[] {
    if (this.index.size === 0) return [];
    return this.index.search(vector, Math.min(k, this.index.size));
  }
}

function describeScope(scope: VectorRecordScope): string {
  return `The ${scope.collection} index${scope.tenant ? ` of tenant '${scope.tenant}'` : ''}${scope.partition ? ` (${scope.partition.slice(0, 16)})` : ''}`;
}
