import { createHash } from 'node:crypto';
import type { WorkflowContext } from '../engine/context.ts';
import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { ConfigError, InvalidArgumentError, PayloadTooLargeError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEventPayloads } from '../journal/events.ts';
import type { VectorRecordScope, VectorRecordStore } from '../store/vector-records.ts';
import { CacheErrorBound, type CacheBound, type CacheVerdict } from './cache-error-bound.ts';
import { calibratedDefaults, embedChecked, type Embedder } from './embedder.ts';
import { requestText } from './request-text.ts';
import { checkText, checkUnitInterval, rejected } from '../argument-checks.ts';
import { VectorRecordsUnavailableError } from './routing-errors.ts';
import { SyncedIndex, type IndexFactory } from './synced-index.ts';
import { roundScore } from '../rounding.ts';

/**
 * What a cached answer is only valid for. Entries are shared only between calls with the same
 * model, system prompt and tool set, in the same tenant.
 */
export interface CacheScope {
  model: string;
  system?: string;
  /** The tools offered with the call: their names, or their full definitions. */
  tools?: unknown;
  /**
   * The request's structure (an agent's: the roles of its messages and the tools they call): only
   * requests of the same shape are compared for similarity.
   */
  shape?: string;
}

export interface CacheRequest {
  tenant: string;
  scope: CacheScope;
  /** The request as sent (messages, settings): the exact key is its canonical hash. */
  request: unknown;
  /** The text compared for similarity. Default: the request's user and assistant text. */
  text?: string;
}

export type CacheLookup =
  | {
      hit: true;
      match: 'exact' | 'similar';
      similarity: number;
      key: string;
      response: unknown;
      source: { runId: string; seq: number };
      /** The similarity a similar hit needed (1 for an exact one). */
      threshold: number;
      /** With `maxErrorRate`: the error bound a similar hit was served under. */
      bound?: CacheBound;
    }
  | {
      hit: false;
      key: string;
      reason: string;
      /** With `nearest: true`: the most similar live entry, which was not similar enough to serve. */
      nearest?: { similarity: number; response: unknown };
    };

export interface SemanticCacheOptions {
  /** Where entries live: `store.vectorRecords`. */
  records: VectorRecordStore | undefined;
  embedder: Embedder;
  /**
   * Cosine similarity at or above which a different request is answered from the cache, in (0, 1].
   * Default: the embedder's calibrated threshold (`embedder.calibrated.cacheThreshold`), else 0.95.
   * Ignored when `maxErrorRate` is set.
   */
  threshold?: number;
  /**
   * Bound the share of wrong similar hits instead of trusting a fixed threshold (after vCache):
   * each cache scope learns its threshold from verdicts (`cache.verify`), so that at most this share
   * of similar hits is wrong, with `confidence`. Until verdicts support a threshold, only exact
   * matches are served. Example: 0.01.
   */
  maxErrorRate?: number;
  /** Confidence of the error bound. Default 0.95. */
  confidence?: number;
  /** How long an entry is served. Default '1d'. */
  ttl?: Duration;
  createIndex?: IndexFactory;
  /** Where the cache reports problems it recovers from (a failed write). Default console.warn. */
  log?: (message: string, error?: unknown) => void;
}

const COLLECTION = 'cache';
const MAX_SCOPES = 256;

/**
 * A semantic cache of model answers: an exact match on the canonical hash of the request, then the
 * most similar earlier request of the same scope above `threshold`. Entries are keyed by tenant and
 * by (model, system prompt, tool set), and are never served across tenants: every store read names
 * the tenant, and each (tenant, scope) has its own in-memory index.
 *
 * An entry is served only while its TTL lasts and while the run it came from exists: an entry whose
 * source run was deleted is treated as a miss and removed.
 *
 * Use {@link cachedModelCall} in workflows: it journals hits (with the similarity and the threshold
 * or error bound they were served under) and misses. Caching is opt-in, per call.
 *
 * @example
 * const cache = new SemanticCache({ records: baton.store.vectorRecords, embedder, threshold: 0.92, ttl: '12h' });
 */
export class SemanticCache {
  readonly embedder: Embedder;
  readonly threshold: number;
  readonly ttlMs: number;
  /** With `maxErrorRate`: the learnt per-scope thresholds. */
  readonly errorBound: CacheErrorBound | undefined;
  readonly #records: VectorRecordStore;
  readonly #createIndex: IndexFactory | undefined;
  readonly #indexes = new Map<string, SyncedIndex>();
  /** Where the cache reports problems it recovers from. */
  readonly log: (message: string, error?: unknown) => void;

  constructor(options: SemanticCacheOptions) {
    if (!options.records) throw new VectorRecordsUnavailableError({ feature: 'The semantic cache' });
    this.#records = options.records;
    this.embedder = options.embedder;
    this.threshold = checkUnitInterval(
      options.threshold ?? calibratedDefaults(options.embedder).cacheThreshold,
      'The semantic cache threshold',
      { exclusiveMin: true },
    );
    this.errorBound =
      options.maxErrorRate === undefined
        ? undefined
        : new CacheErrorBound(options.records, {
            maxErrorRate: options.maxErrorRate,
            ...(options.confidence === undefined ? {} : { confidence: options.confidence }),
          });
    this.ttlMs = toMilliseconds(options.ttl ?? '1d', 'cache TTL');
    if (this.ttlMs === 0) throw new InvalidArgumentError('The cache TTL must be longer than 0.');
    this.#createIndex = options.createIndex;
    this.log = options.log ?? ((message, error) => console.warn(`[baton] ${message}`, error ?? ''));
  }

  /** The record scope and exact key of a request. */
  keys(input: CacheRequest): { scope: VectorRecordScope; key: string } {
    checkText(input.tenant, 'The cache tenant');
    checkText(input.scope?.model, 'The cache scope model');
    const partition = sha256(
      canonicalJson(
        {
          model: input.scope.model,
          system: input.scope.system ?? '',
          tools: input.scope.tools ?? [],
          ...(input.scope.shape === undefined ? {} : { shape: input.scope.shape }),
        },
        'The cache scope',
      ),
    );
    const key = sha256(canonicalJson({ partition, request: input.request ?? null }, 'The cached request'));
    return { scope: { collection: COLLECTION, tenant: input.tenant, partition }, key };
  }

  /**
   * The entry for a request: exact, else the most similar at or above the threshold
   * (`options.threshold` overrides the cache's; `options.similar: false` looks for the exact one only).
   */
  async lookup(
    input: CacheRequest,
    now = Date.now(),
    options: { threshold?: number; similar?: boolean; nearest?: boolean } = {},
  ): Promise<CacheLookup> {
    const { scope, key } = this.keys(input);
    let threshold =
      options.threshold === undefined
        ? this.threshold
        : checkUnitInterval(options.threshold, 'The cache threshold', { exclusiveMin: true });
    const [exact] = await this.#records.getVectorRecords(scope, [key]);
    let reason = 'no entry for this scope';
    if (exact) {
      const problem = this.#problem(exact, now);
      if (!problem)
        return {
          hit: true,
          match: 'exact',
          similarity: 1,
          key,
          response: (exact.data as { response: unknown }).response,
          source: source(exact),
          threshold: 1,
        };
      reason = problem;
      await this.#drop(scope, exact.key);
    }
    if (options.similar === false) return { hit: false, key, reason: exact ? reason : 'no exact entry' };
    const bound = this.errorBound ? await this.errorBound.bound(scope) : undefined;
    if (bound) threshold = bound.threshold;
    const unbounded = bound !== undefined && bound.threshold >= 1;
    if (unbounded && !options.nearest)
      return { hit: false, key, reason: exact ? reason : tooFewVerdicts(bound) };
    const index = this.#index(scope);
    await index.sync();
    if (index.index.size === 0) return { hit: false, key, reason };
    const [vector] = await embedChecked(this.embedder, [this.#text(input)]);
    const found = index.search(vector!, 4);
    const near = unbounded ? [] : found.filter((hit) => hit.similarity >= threshold);
    if (near.length === 0) {
      const missed = {
        hit: false as const,
        key,
        reason: exact ? reason : unbounded ? tooFewVerdicts(bound) : `no entry at similarity ≥ ${threshold}`,
      };
      const closest = found.find((hit) => hit.key !== key);
      if (!options.nearest || !closest) return missed;
      const [record] = await this.#records.getVectorRecords(scope, [closest.key]);
      if (!record || this.#problem(record, now)) return missed;
      return {
        ...missed,
        nearest: {
          similarity: roundScore(closest.similarity),
          response: (record.data as { response: unknown }).response,
        },
      };
    }
    const records = new Map(
      (
        await this.#records.getVectorRecords(
          scope,
          near.map((hit) => hit.key),
        )
      ).map((record) => [record.key, record]),
    );
    for (const hit of near) {
      const record = records.get(hit.key);
      const problem = record ? this.#problem(record, now) : 'the entry was deleted';
      if (!problem) {
        return {
          hit: true,
          match: 'similar',
          similarity: roundScore(hit.similarity),
          key,
          response: (record!.data as { response: unknown }).response,
          source: source(record!),
          threshold,
          ...(bound ? { bound } : {}),
        };
      }
      reason = problem;
      await this.#drop(scope, hit.key);
    }
    return { hit: false, key, reason };
  }

  /** Keeps a response, with the run and journal seq it came from, for the cache's TTL (or `options.ttlMs`). */
  async store(
    input: CacheRequest & { response: unknown; source: { runId: string; seq: number } },
    now = Date.now(),
    options: { ttlMs?: number } = {},
  ): Promise<void> {
    const { scope, key } = this.keys(input);
    const text = this.#text(input);
    const [vector] = await embedChecked(this.embedder, [text]);
    const record = await this.#records.putVectorRecord({
      ...scope,
      key,
      space: this.#index(scope).space,
      vector: vector!,
      text,
      data: { model: input.scope.model, response: input.response ?? null },
      sourceRunId: input.source.runId,
      sourceSeq: input.source.seq,
      createdAt: now,
      expiresAt: now + (options.ttlMs ?? this.ttlMs),
    });
    this.#index(scope).added(record);
  }

  /**
   * Records whether a similar hit (or a lookup checked against a fresh answer) was right, in the
   * request's tenant and scope: what the error bound learns from. Needs `maxErrorRate`.
   *
   * @example await cache.verify(request, { similarity: hit.similarity, correct: judge(hit.response, fresh) });
   */
  async verify(input: CacheRequest, verdict: CacheVerdict, now = Date.now()): Promise<void> {
    if (!this.errorBound)
      throw new ConfigError(
        'cache.verify records verdicts for an error bound, but this cache has none: give it { maxErrorRate }.',
      );
    await this.errorBound.record(this.keys(input).scope, verdict, now);
  }

  /** Deletes expired entries and entries whose source run is gone, in every tenant. */
  prune(now = Date.now()): Promise<number> {
    return this.#records.pruneVectorRecords({ now, collection: COLLECTION });
  }

  #problem(record: { expiresAt?: number; sourceExists: boolean }, now: number): string | undefined {
    if (!record.sourceExists) return 'the entry came from a run that was deleted';
    if (record.expiresAt !== undefined && record.expiresAt <= now) return 'the entry expired';
    return undefined;
  }

  async #drop(scope: VectorRecordScope, key: string): Promise<void> {
    await this.#records.deleteVectorRecords(scope, [key]);
    this.#indexes.get(indexKey(scope))?.removed(key);
  }

  #text(input: CacheRequest): string {
    return input.text ?? requestText(input.request);
  }

  #index(scope: VectorRecordScope): SyncedIndex {
    const id = indexKey(scope);
    let index = this.#indexes.get(id);
    if (index) {
      this.#indexes.delete(id);
    } else {
      index = new SyncedIndex({
        records: this.#records,
        scope,
        embedder: this.embedder,
        ...(this.#createIndex ? { createIndex: this.#createIndex } : {}),
        notify: (message) => this.log(message),
      });
      if (this.#indexes.size >= MAX_SCOPES) this.#indexes.delete(this.#indexes.keys().next().value!);
    }
    this.#indexes.set(id, index);
    return index;
  }
}

export interface CachedCallOptions<Response> {
  /** The call's name in the journal (`cache:<name>`). Default: the scope's model. */
  name?: string;
  scope: CacheScope;
  request: unknown;
  text?: string;
  /** True when this turn has side effects (tool calls that write): it is never served from nor written to the cache. */
  sideEffects?: boolean;
  /** False to bypass the cache for this call. Default true. */
  enabled?: boolean;
  /** Makes the model call on a miss. Must not make ctx calls. */
  call: (signal: AbortSignal) => Promise<Response>;
  /**
   * Teaches a cache with `maxErrorRate` from its misses (vCache's exploration): on a miss that had
   * a similar entry, the fresh answer is compared with the entry's by this function, and the verdict
   * (the similarity, and whether the entry would have been right) is recorded and journaled on
   * `cache.missed`. Must not make ctx calls.
   *
   * @example judge: (cached, fresh) => cached.text.trim() === fresh.text.trim()
   */
  judge?: (cached: Response, fresh: Response) => boolean | Promise<boolean>;
}

export interface CachedCallResult<Response> {
  response: Response;
  /** Where a hit came from; undefined on a miss. */
  hit?: { match: 'exact' | 'similar'; similarity: number; source: { runId: string; seq: number } };
  replayed: boolean;
}

/**
 * A model call through the semantic cache, journaled: `cache.hit` (with the run and seq the answer
 * came from) or `cache.missed` (with the fresh answer, which becomes a cache entry pointing at this
 * event). Scoped to the run's tenant. Calls with `sideEffects` or `enabled: false` skip the cache
 * and journal `cache.missed` with that reason.
 *
 * Failure semantics: the answer is journaled before it is returned, so replay returns it without
 * looking up or calling anything. A crash after the model call but before the event is committed
 * makes the call again. Writing the entry happens after the event is committed; if that write fails
 * the call still succeeds (the entry is missing, and the failure is logged).
 *
 * @example
 * const { response } = await cachedModelCall(ctx, cache, {
 *   scope: { model: 'openai:gpt-4.1-mini', system: instructions, tools: ['search'] },
 *   request: { messages },
 *   call: () => generateText({ model, system: instructions, messages }).then((r) => r.text),
 * });
 */
export function cachedModelCall<Response>(
  ctx: WorkflowContext,
  cache: SemanticCache,
  options: CachedCallOptions<Response>,
): Promise<CachedCallResult<Response>> {
  let name: string;
  let keys: ReturnType<SemanticCache['keys']>;
  try {
    name = checkText(options.name ?? options.scope?.model, 'The cached call name');
    keys = cache.keys({ tenant: ctx.tenant, scope: options.scope, request: options.request });
    if (typeof options.call !== 'function')
      throw new InvalidArgumentError('cachedModelCall needs a call function.');
  } catch (error) {
    return rejected(error);
  }
  const input: CacheRequest = {
    tenant: ctx.tenant,
    scope: options.scope,
    request: options.request,
    ...(options.text === undefined ? {} : { text: options.text }),
  };
  return ctx.operations.run(`cache:${name}`, async (op) => {
    for (const event of op.recorded) {
      if (event.type === 'cache.hit') {
        const payload = event.payload;
        return {
          response: payload.response as Response,
          hit: { match: payload.match, similarity: payload.similarity, source: payload.source },
          replayed: true,
        };
      }
      if (event.type === 'cache.missed') {
        return {
          response: event.payload.response as Response,
          replayed: true,
        };
      }
    }
    const bypass = options.sideEffects
      ? 'the turn has side effects: never cached'
      : options.enabled === false
        ? 'caching is off for this call'
        : undefined;
    let reason = bypass;
    let nearest: { similarity: number; response: unknown } | undefined;
    const judging = options.judge !== undefined && cache.errorBound !== undefined;
    if (!bypass) {
      const found = await op.active(() => cache.lookup(input, op.now(), { nearest: judging }));
      if (found.hit) {
        await op.append([
          {
            type: 'cache.hit',
            payload: {
              op: op.op,
              name,
              match: found.match,
              similarity: found.similarity,
              key: found.key,
              source: found.source,
              response: found.response,
              ...(found.match === 'similar' ? { threshold: found.threshold } : {}),
              ...(found.bound ? { bound: found.bound } : {}),
            },
          },
        ]);
        return {
          response: found.response as Response,
          hit: { match: found.match, similarity: found.similarity, source: found.source },
          replayed: false,
        };
      }
      reason = found.reason;
      nearest = found.nearest;
    }
    const response = await op.active(() => options.call(op.signal));
    const verdict =
      nearest && options.judge
        ? {
            similarity: nearest.similarity,
            correct:
              (await op.active(async () => options.judge!(nearest.response as Response, response))) === true,
          }
        : undefined;
    const payload: JournalEventPayloads['cache.missed'] = {
      op: op.op,
      name,
      key: keys.key,
      reason: reason!,
      response: response,
      stored: bypass === undefined,
      ...(verdict ? { verdict } : {}),
    };
    const bytes = Buffer.byteLength(canonicalJson(payload, `The response of '${name}'`));
    if (bytes > ctx.operations.maxPayloadBytes) {
      throw new PayloadTooLargeError({
        what: `The response of '${name}'`,
        bytes,
        limit: ctx.operations.maxPayloadBytes,
      });
    }
    const [event] = await op.append([{ type: 'cache.missed', payload }]);
    if (verdict) {
      await op
        .active(() => cache.verify(input, verdict, op.now()))
        .catch((error: unknown) =>
          cache.log(`Could not record the cache verdict of '${name}' in run ${ctx.runId}.`, error),
        );
    }
    if (bypass === undefined) {
      await op
        .active(() =>
          cache.store({ ...input, response, source: { runId: ctx.runId, seq: event!.seq } }, op.now()),
        )
        .catch((error: unknown) =>
          cache.log(`Could not write the cache entry of '${name}' in run ${ctx.runId}.`, error),
        );
    }
    return { response, replayed: false };
  });
}

function tooFewVerdicts(bound: CacheBound): string {
  return `no exact entry, and too few verdicts yet to serve similar ones within error rate ${bound.maxErrorRate}`;
}

function source(record: { sourceRunId?: string; sourceSeq?: number }): { runId: string; seq: number } {
  return { runId: record.sourceRunId ?? '', seq: record.sourceSeq ?? 0 };
}

function indexKey(scope: VectorRecordScope): string {
  return `${scope.tenant}\u0000${scope.partition}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
