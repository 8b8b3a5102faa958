import type { WorkflowContext } from '../engine/context.ts';
import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { InvalidArgumentError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEventPayloads } from '../journal/events.ts';
import type { VectorRecord, VectorRecordScope, VectorRecordStore } from '../store/vector-records.ts';
import { embedChecked, type Embedder } from './embedder.ts';
import { estimateTokens, type TokenCounter } from './request-text.ts';
import {
  checkPositiveInteger,
  checkSimilarity,
  checkText,
  checkUnitInterval,
  rejected,
} from '../argument-checks.ts';
import { VectorRecordsUnavailableError } from './routing-errors.ts';
import { SyncedIndex, type IndexFactory } from './synced-index.ts';
import { roundScore } from '../rounding.ts';

export interface LongTermMemoryOptions {
  /** Where memories live: `store.vectorRecords`. */
  records: VectorRecordStore | undefined;
  embedder: Embedder;
  createIndex?: IndexFactory;
  /** Counts tokens for recall budgets. Default {@link estimateTokens}. */
  countTokens?: TokenCounter;
  log?: (message: string) => void;
}

export interface RememberOptions {
  /** 'fact', 'summary', 'preference', … Default 'fact'. */
  kind?: string;
  /** Whose memory. Default: the context's actor (the workflow, or the agent acting). */
  agent?: string;
  meta?: Record<string, unknown>;
}

export interface RecallOptions {
  /** The most tokens the recalled texts may add up to. */
  tokens: number;
  /** How many nearest memories to consider. Default 20. */
  k?: number;
  /** Memories less similar than this are left out, in [-1, 1]. Default 0.1. */
  minScore?: number;
  /** Weight of recency against relevance in the score, in [0, 1]. Default 0.1. */
  recencyWeight?: number;
  /** A memory's recency halves every this long. Default '7d'. */
  halfLife?: Duration;
  agent?: string;
}

export interface RecalledMemory {
  key: string;
  text: string;
  kind: string;
  similarity: number;
  /** (1 − recencyWeight)·similarity + recencyWeight·recency. */
  score: number;
  tokens: number;
}

/** `ctx.memory`: an agent's long-term memory, journaled. */
export interface MemoryApi {
  /** Keeps a fact or summary; returns its key. */
  remember(text: string, options?: RememberOptions): Promise<string>;
  /** The memories most relevant to `query` that fit in `options.tokens`, best first. */
  recall(query: string, options: RecallOptions): Promise<RecalledMemory[]>;
}

const COLLECTION = 'memory';

/**
 * Long-term memory per agent and tenant: facts and summaries kept in the store as vector records,
 * searched through an in-memory HNSW index per (tenant, agent) that follows the store.
 *
 * In workflows use {@link LongTermMemory.forContext} (or `ctx.memory`, from the routing layer): remember
 * and recall are journaled (`memory.remembered`, `memory.recalled`), so replay returns what the run
 * saw the first time even if memory has changed since.
 *
 * @example
 * const memory = new LongTermMemory({ records: baton.store.vectorRecords, embedder });
 * await ctx.memory.remember('Customer prefers email over phone', { kind: 'preference' });
 * const notes = await ctx.memory.recall('how to contact the customer', { tokens: 300 });
 */
export class LongTermMemory {
  readonly embedder: Embedder;
  readonly #records: VectorRecordStore;
  readonly #createIndex: IndexFactory | undefined;
  readonly #countTokens: TokenCounter;
  readonly #log: (message: string) => void;
  readonly #indexes = new Map<string, SyncedIndex>();
  /** Keys of journaled memories this process has checked are in the store. */
  readonly #verified = new Set<string>();

  constructor(options: LongTermMemoryOptions) {
    if (!options.records) throw new VectorRecordsUnavailableError({ feature: 'Long-term memory' });
    this.#records = options.records;
    this.embedder = options.embedder;
    this.#createIndex = options.createIndex;
    this.#countTokens = options.countTokens ?? estimateTokens;
    this.#log = options.log ?? ((message) => console.warn(`[baton] ${message}`));
  }

  /** The journaled memory API for one run, as `ctx.memory`. */
  forContext(ctx: WorkflowContext): MemoryApi {
    return {
      remember: (text, options) => this.remember(ctx, text, options),
      recall: (query, options) => this.recall(ctx, query, options),
    };
  }

  /**
   * Keeps a memory for the agent in the run's tenant, journaled as `memory.remembered`.
   *
   * Failure semantics: the event is committed, then the memory is written to the store. If the
   * process dies in between, the next replay of this run writes it (each memory's key is the run and
   * op that made it, so it is written once).
   */
  remember(ctx: WorkflowContext, text: string, options: RememberOptions = {}): Promise<string> {
    let agent: string;
    let kind: string;
    try {
      checkText(text, 'The text to remember');
      agent = checkText(options.agent ?? ctx.identity.actor, 'The memory agent');
      kind = checkText(options.kind ?? 'fact', 'The memory kind');
      if (options.meta !== undefined) canonicalJson(options.meta, 'The memory meta');
    } catch (error) {
      return rejected(error);
    }
    const scope = scopeOf(ctx.tenant, agent);
    return ctx.operations.run(`memory:${agent}`, async (op) => {
      const key = `${ctx.runId}:${op.op}`;
      const recorded = op.recorded.find((event) => event.type === 'memory.remembered');
      if (recorded) {
        if (!this.#verified.has(key)) {
          await op.active(() =>
            this.#ensureStored(scope, recorded.payload, ctx.runId, recorded.seq, op.now()),
          );
          this.#verified.add(key);
        }
        return key;
      }
      const [event] = await op.append([
        {
          type: 'memory.remembered',
          payload: {
            op: op.op,
            name: agent,
            key,
            text,
            kind,
            ...(options.meta ? { meta: options.meta } : {}),
          },
        },
      ]);
      await op.active(() =>
        this.#write(scope, { key, text, kind, meta: options.meta }, ctx.runId, event!.seq, op.now()),
      );
      this.#verified.add(key);
      return key;
    });
  }

  /**
   * The agent's memories most relevant to `query` that fit in `options.tokens`, journaled as
   * `memory.recalled`; on replay the journaled memories are returned.
   */
  recall(ctx: WorkflowContext, query: string, options: RecallOptions): Promise<RecalledMemory[]> {
    let agent: string;
    let resolved: ReturnType<typeof resolveRecall>;
    try {
      checkText(query, 'The recall query');
      agent = checkText(options?.agent ?? ctx.identity.actor, 'The memory agent');
      resolved = resolveRecall(options);
    } catch (error) {
      return rejected(error);
    }
    return ctx.operations.run(`memory:${agent}`, async (op) => {
      const recorded = op.recorded.find((event) => event.type === 'memory.recalled');
      if (recorded) return recorded.payload.items;
      const items = await op.active(() => this.search(ctx.tenant, agent, query, resolved, op.now()));
      await op.append([
        {
          type: 'memory.recalled',
          payload: { op: op.op, name: agent, query, tokens: resolved.tokens, items },
        },
      ]);
      return items;
    });
  }

  /** The search behind recall, not journaled (for tools and tests outside workflows). */
  async search(
    tenant: string,
    agent: string,
    query: string,
    options: RecallOptions,
    now = Date.now(),
  ): Promise<RecalledMemory[]> {
    const resolved = resolveRecall(options);
    const scope = scopeOf(tenant, agent);
    const index = this.#index(scope);
    await index.sync();
    if (index.index.size === 0) return [];
    const [vector] = await embedChecked(this.embedder, [query]);
    const hits = index.search(vector!, resolved.k).filter((hit) => hit.similarity >= resolved.minScore);
    const records = new Map(
      (
        await this.#records.getVectorRecords(
          scope,
          hits.map((hit) => hit.key),
        )
      ).map((record) => [record.key, record]),
    );
    const scored: RecalledMemory[] = [];
    for (const hit of hits) {
      const record = records.get(hit.key);
      if (!record) {
        index.removed(hit.key);
        continue;
      }
      const recency = 2 ** (-Math.max(0, now - record.createdAt) / resolved.halfLifeMs);
      const similarity = roundScore(hit.similarity);
      scored.push({
        key: record.key,
        text: record.text,
        kind: (record.data as { kind?: string }).kind ?? 'fact',
        similarity,
        score: roundScore((1 - resolved.recencyWeight) * hit.similarity + resolved.recencyWeight * recency),
        tokens: this.#countTokens(record.text),
      });
    }
    scored.sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1));
    const chosen: RecalledMemory[] = [];
    let used = 0;
    for (const item of scored) {
      if (used + item.tokens > resolved.tokens) continue;
      chosen.push(item);
      used += item.tokens;
    }
    return chosen;
  }

  async #write(
    scope: VectorRecordScope,
    memory: { key: string; text: string; kind: string; meta: Record<string, unknown> | undefined },
    runId: string,
    seq: number,
    now: number,
  ): Promise<VectorRecord> {
    const [vector] = await embedChecked(this.embedder, [memory.text]);
    const index = this.#index(scope);
    const record = await this.#records.putVectorRecord({
      ...scope,
      key: memory.key,
      space: index.space,
      vector: vector!,
      text: memory.text,
      data: { kind: memory.kind, ...(memory.meta ? { meta: memory.meta } : {}) },
      sourceRunId: runId,
      sourceSeq: seq,
      createdAt: now,
    });
    index.added(record);
    return record;
  }

  async #ensureStored(
    scope: VectorRecordScope,
    payload: JournalEventPayloads['memory.remembered'],
    runId: string,
    seq: number,
    now: number,
  ): Promise<void> {
    const [existing] = await this.#records.getVectorRecords(scope, [payload.key]);
    if (existing) return;
    this.#log(
      `Memory ${payload.key} of ${payload.name} was journaled but not stored (a crash in between); writing it now.`,
    );
    await this.#write(
      scope,
      { key: payload.key, text: payload.text, kind: payload.kind, meta: payload.meta },
      runId,
      seq,
      now,
    );
  }

  #index(scope: VectorRecordScope): SyncedIndex {
    const id = `${scope.tenant}\u0000${scope.partition}`;
    let index = this.#indexes.get(id);
    if (!index) {
      index = new SyncedIndex({
        records: this.#records,
        scope,
        embedder: this.embedder,
        ...(this.#createIndex ? { createIndex: this.#createIndex } : {}),
        notify: this.#log,
      });
      this.#indexes.set(id, index);
    }
    return index;
  }
}

function scopeOf(tenant: string, agent: string): VectorRecordScope {
  return { collection: COLLECTION, tenant, partition: agent };
}

function resolveRecall(options: RecallOptions): {
  tokens: number;
  k: number;
  minScore: number;
  recencyWeight: number;
  halfLifeMs: number;
} {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('recall needs options with a token budget: { tokens }.');
  const halfLifeMs = toMilliseconds(options.halfLife ?? '7d', 'recall halfLife');
  if (halfLifeMs === 0) throw new InvalidArgumentError('The recall halfLife must be longer than 0.');
  return {
    tokens: checkPositiveInteger(options.tokens, 'The recall token budget'),
    k: checkPositiveInteger(options.k ?? 20, 'recall option k'),
    minScore: checkSimilarity(options.minScore ?? 0.1, 'recall option minScore'),
    recencyWeight: checkUnitInterval(options.recencyWeight ?? 0.1, 'recall option recencyWeight'),
    halfLifeMs,
  };
}
