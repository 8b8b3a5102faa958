import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../errors.ts';
import type { VectorRecordScope, VectorRecordStore } from '../store/vector-records.ts';
import { checkUnitInterval } from '../argument-checks.ts';
import { roundScore } from '../rounding.ts';

/** A served (or would-be) cache hit checked by someone: was the cached answer right for the request? */
export interface CacheVerdict {
  /** The similarity the entry matched at. */
  similarity: number;
  /** True when the cached answer was a correct answer to the new request. */
  correct: boolean;
}

/** The threshold a similar hit was served under, and the evidence for it (journaled with the hit). */
export interface CacheBound {
  /** The user's maximum error rate. */
  maxErrorRate: number;
  /** The similarity a hit needs; 1 (exact matches only) until the verdicts show a lower one is safe. */
  threshold: number;
  /** Verdicts at or above the threshold, and how many of them were wrong. */
  samples: number;
  errors: number;
  /** The upper confidence bound on the error rate at the threshold (at most maxErrorRate when < 1). */
  upperBound: number;
  /** Where the verdicts came from: this cache scope, or the tenant's scopes pooled. */
  from: 'scope' | 'tenant';
}

export interface CacheErrorBoundOptions {
  /** The largest share of similar hits that may be wrong, in (0, 1): 0.01 for 1%. */
  maxErrorRate: number;
  /** Confidence of the upper bound. Default 0.95. */
  confidence?: number;
  /** A scope with fewer verdicts uses its tenant's verdicts pooled. Default 30. */
  minScopeVerdicts?: number;
}

/** Thresholds are chosen on a grid of this step, so that few cuts are tried (see boundedThreshold). */
const GRID = 0.005;

/**
 * The threshold at which a set of verdicts says similar hits are wrong at most `maxErrorRate` of the
 * time, with confidence: the lowest similarity t on a grid of 0.005 such that, for t and every grid
 * point above it, the Wilson upper bound on the error rate of the verdicts at or above it is at most
 * `maxErrorRate`. The bound's confidence is split over the grid points tried (Bonferroni), since
 * choosing the lowest of many cuts that pass would otherwise pick a lucky one. Undefined when no
 * threshold qualifies (too few verdicts, or too many wrong ones): then only exact matches are served.
 */
export function boundedThreshold(
  verdicts: readonly CacheVerdict[],
  maxErrorRate: number,
  confidence = 0.95,
): { threshold: number; samples: number; errors: number; upperBound: number } | undefined {
  const sorted = [...verdicts].sort((a, b) => b.similarity - a.similarity);
  // Grid points at or below the highest similarity, down to the lowest one.
  const cuts: number[] = [];
  if (sorted.length > 0) {
    const top = Math.floor(sorted[0]!.similarity / GRID);
    const bottom = Math.floor(sorted.at(-1)!.similarity / GRID);
    for (let step = top; step >= bottom; step--) cuts.push(roundScore(step * GRID));
  }
  const z = normalQuantile(1 - (1 - confidence) / Math.max(1, cuts.length));
  let best: { threshold: number; samples: number; errors: number; upperBound: number } | undefined;
  let samples = 0;
  let errors = 0;
  for (const cut of cuts) {
    while (samples < sorted.length && sorted[samples]!.similarity >= cut) {
      if (!sorted[samples]!.correct) errors++;
      samples++;
    }
    if (samples === 0) continue;
    const upperBound = wilsonUpper(errors, samples, z);
    if (upperBound > maxErrorRate) {
      if (best) break;
      continue;
    }
    best = { threshold: cut, samples, errors, upperBound };
  }
  return best;
}

const COLLECTION = 'cache-verdict';

/**
 * A semantic cache's error bound (after vCache): instead of one static similarity threshold, each
 * cache scope (tenant, model, system prompt, tools) learns its own from verified hits and misses,
 * so that the share of wrong similar hits stays under the user's `maxErrorRate` with 95% confidence.
 * A scope with few verdicts borrows its tenant's; never another tenant's. Until the verdicts
 * support a threshold, only exact matches are served.
 *
 * Verdicts are kept in the store (collection `cache-verdict`, in the scope's tenant), and read
 * again (only the new ones) at every bound, so every process sharing the store learns from them.
 */
export class CacheErrorBound {
  readonly maxErrorRate: number;
  readonly confidence: number;
  readonly minScopeVerdicts: number;
  readonly #records: VectorRecordStore;
  /** Verdicts by tenant, then by partition, and the id of the last record read. */
  readonly #tenants = new Map<string, { partitions: Map<string, CacheVerdict[]>; watermark: number }>();
  readonly #syncing = new Map<string, Promise<Map<string, CacheVerdict[]>>>();

  constructor(records: VectorRecordStore, options: CacheErrorBoundOptions) {
    this.#records = records;
    this.maxErrorRate = checkUnitInterval(options.maxErrorRate, 'The cache maxErrorRate', {
      exclusiveMin: true,
    });
    if (this.maxErrorRate >= 1) throw new InvalidArgumentError('The cache maxErrorRate must be below 1.');
    this.confidence = checkUnitInterval(options.confidence ?? 0.95, 'The cache bound confidence', {
      exclusiveMin: true,
    });
    this.minScopeVerdicts = options.minScopeVerdicts ?? 30;
  }

  /** The threshold the scope's similar hits are served under now. */
  async bound(scope: VectorRecordScope): Promise<CacheBound> {
    const partitions = await this.#verdicts(scope.tenant);
    const own = partitions.get(scope.partition) ?? [];
    const from = own.length >= this.minScopeVerdicts ? 'scope' : 'tenant';
    const verdicts = from === 'scope' ? own : [...partitions.values()].flat();
    const found = boundedThreshold(verdicts, this.maxErrorRate, this.confidence);
    return found
      ? { maxErrorRate: this.maxErrorRate, ...found, from }
      : {
          maxErrorRate: this.maxErrorRate,
          threshold: 1,
          samples: 0,
          errors: 0,
          upperBound: 1,
          from,
        };
  }

  /** Records a verdict on a hit (or on a lookup checked against a fresh answer) in the scope. */
  async record(scope: VectorRecordScope, verdict: CacheVerdict, now = Date.now()): Promise<void> {
    const similarity = Number(verdict.similarity);
    if (!Number.isFinite(similarity) || similarity < -1 || similarity > 1)
      throw new InvalidArgumentError(
        `A cache verdict's similarity must be in [-1, 1], got ${String(similarity)}.`,
      );
    await this.#records.putVectorRecord({
      collection: COLLECTION,
      tenant: scope.tenant,
      partition: '',
      key: randomUUID(),
      space: 'cache-verdict/1',
      vector: Float32Array.of(similarity),
      text: '',
      data: { partition: scope.partition, similarity, correct: verdict.correct === true },
      createdAt: now,
    });
  }

  /** The tenant's verdicts, after reading those written since the last read (by any process). */
  #verdicts(tenant: string): Promise<Map<string, CacheVerdict[]>> {
    let syncing = this.#syncing.get(tenant);
    if (!syncing) {
      syncing = this.#read(tenant).finally(() => this.#syncing.delete(tenant));
      this.#syncing.set(tenant, syncing);
    }
    return syncing;
  }

  /** Reads a tenant's new verdicts (kept in its partition '', each naming the cache scope it was made in). */
  async #read(tenant: string): Promise<Map<string, CacheVerdict[]>> {
    let state = this.#tenants.get(tenant);
    if (!state) this.#tenants.set(tenant, (state = { partitions: new Map(), watermark: 0 }));
    const scope = { collection: COLLECTION, tenant, partition: '' };
    for (;;) {
      const page = await this.#records.scanVectorRecords(scope, { afterId: state.watermark, limit: 5000 });
      if (page.length === 0) break;
      for (const record of page) {
        state.watermark = record.id;
        // The similarity as given (the vector holds it as float32).
        const data = record.data as { partition: string; similarity?: number; correct: boolean };
        const list = state.partitions.get(data.partition) ?? [];
        list.push({ similarity: data.similarity ?? record.vector[0] ?? 0, correct: data.correct });
        state.partitions.set(data.partition, list);
      }
    }
    return state.partitions;
  }
}

function wilsonUpper(errors: number, samples: number, z: number): number {
  const p = errors / samples;
  const z2 = z * z;
  const centre = p + z2 / (2 * samples);
  const spread = z * Math.sqrt((p * (1 - p)) / samples + z2 / (4 * samples * samples));
  return Math.min(1, (centre + spread) / (1 + z2 / samples));
}

/** The standard normal quantile (Acklam's rational approximation; |error| < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628274631,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
