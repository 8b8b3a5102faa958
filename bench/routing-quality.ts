import { readFileSync } from 'node:fs';
import { boundedThreshold, type CacheVerdict } from '../src/routing/cache-error-bound.ts';
import { CapabilityRegistry } from '../src/routing/capability-registry.ts';
import type { Embedder } from '../src/routing/embedder.ts';
import { LexicalEmbedder } from '../src/routing/lexical-embedder.ts';
import { WordVectorEmbedder } from '../src/routing/word-vector-embedder.ts';
import type { Figure, Measurement } from './harness.ts';

/** The labelled sets (bench/data): desks, requests labelled with their desk, cache pairs. */
export interface QualitySets {
  desks: { name: string; description: string }[];
  requests: { text: string; desk: string | null }[];
  pairs: { cached: string; asked: string; sameAnswer: boolean }[];
}

export function readQualitySets(): QualitySets {
  const read = (file: string): any =>
    JSON.parse(readFileSync(new URL(`./data/${file}`, import.meta.url), 'utf8'));
  return {
    desks: read('support-desks.json').desks,
    requests: read('support-requests.json').requests,
    pairs: read('cache-pairs.json').pairs,
  };
}

/** Even positions calibrate, odd positions are held out. */
export function split<T>(items: readonly T[]): { calibration: T[]; heldOut: T[] } {
  return {
    calibration: items.filter((_, index) => index % 2 === 0),
    heldOut: items.filter((_, index) => index % 2 === 1),
  };
}

export interface RoutingQuality {
  top1: number;
  top3: number;
  /** The minScore chosen on the calibration part: 95% of the requests that fit a desk are routed. */
  minScore: number;
  /** Of held-out requests routed to "no fit", the share that fit no desk. */
  noFitPrecision: number;
  /** Of held-out requests that fit no desk, the share routed to "no fit". */
  noFitRecall: number;
  /** Of held-out requests that fit a desk, the share sent to "no fit". */
  fitsSentToFallback: number;
}

/** Routing accuracy on the held-out requests, with minScore calibrated on the others. */
export async function routingQuality(embedder: Embedder, sets: QualitySets): Promise<RoutingQuality> {
  const registry = await CapabilityRegistry.open({ embedder, capabilities: sets.desks, log: () => {} });
  const best = async (requests: readonly QualitySets['requests'][number][]) =>
    Promise.all(
      requests.map(async (request) => {
        const ranking = await registry.rank(request.text, { k: 3, minScore: -1 });
        return {
          request,
          names: ranking.candidates.map((c) => c.name),
          top: ranking.candidates[0]!.similarity,
        };
      }),
    );
  const { calibration, heldOut } = split(sets.requests);
  const calibrated = await best(calibration);
  // minScore: the highest cut that still routes 95% of the calibration requests that fit a desk
  // (a request that fits is sent to the fallback at most 1 time in 20).
  const fitting = calibrated
    .filter((item) => item.request.desk !== null)
    .map((item) => item.top)
    .sort((a, b) => a - b);
  const minScore = fitting[Math.floor(fitting.length * 0.05)]!;
  const held = await best(heldOut);
  const fits = held.filter((item) => item.request.desk !== null);
  const noFit = held.filter((item) => item.top < minScore);
  return {
    top1: fits.filter((item) => item.names[0] === item.request.desk).length / fits.length,
    top3: fits.filter((item) => item.names.includes(item.request.desk!)).length / fits.length,
    minScore: Math.round(minScore * 1000) / 1000,
    noFitPrecision: noFit.filter((item) => item.request.desk === null).length / Math.max(1, noFit.length),
    noFitRecall:
      noFit.filter((item) => item.request.desk === null).length /
      Math.max(1, held.filter((item) => item.request.desk === null).length),
    fitsSentToFallback: fits.filter((item) => item.top < minScore).length / fits.length,
  };
}

export interface CacheQuality {
  /** The threshold chosen on the calibration pairs: the lowest with no wrong hit there. */
  threshold: number;
  /** Held-out paraphrases served from their entry. */
  hitRate: number;
  /** Held-out requests served a wrong entry (a near miss, or another request's answer). */
  wrongHitRate: number;
  /** With an error bound learnt from the calibration verdicts: its threshold and held-out rates. */
  bounded: { maxErrorRate: number; threshold: number; hitRate: number; wrongShareOfHits: number };
}

/**
 * The cache: every `cached` text is an entry; each `asked` text looks up its most similar entry.
 * A hit on its own pair's entry when the pair shares an answer is right; any other hit is wrong.
 */
export async function cacheQuality(
  embedder: Embedder,
  sets: QualitySets,
  maxErrorRate = 0.1,
): Promise<CacheQuality> {
  const entries = [...new Set(sets.pairs.map((pair) => pair.cached))];
  const vectors = await embedder.embed(entries);
  const nearest = async (pairs: readonly QualitySets['pairs'][number][]) => {
    const asked = await embedder.embed(pairs.map((pair) => pair.asked));
    return pairs.map((pair, index) => {
      let similarity = -1;
      let entry = -1;
      vectors.forEach((vector, at) => {
        const value = cosine(vector, asked[index]!);
        if (value > similarity) [similarity, entry] = [value, at];
      });
      return { similarity, correct: pair.sameAnswer && entries[entry] === pair.cached, pair };
    });
  };
  const { calibration, heldOut } = split(sets.pairs);
  const calibrated = await nearest(calibration);
  const wrong = calibrated.filter((item) => !item.correct).map((item) => item.similarity);
  const threshold = Math.min(1, Math.max(0, ...wrong) + 1e-3);
  const held = await nearest(heldOut);
  const paraphrases = held.filter((item) => item.pair.sameAnswer).length;
  const rates = (at: number) => {
    const hits = held.filter((item) => item.similarity >= at);
    return {
      hitRate: hits.filter((item) => item.correct).length / paraphrases,
      wrongHitRate: hits.filter((item) => !item.correct).length / held.length,
      wrongShareOfHits: hits.filter((item) => !item.correct).length / Math.max(1, hits.length),
    };
  };
  const verdicts: CacheVerdict[] = calibrated.map(({ similarity, correct }) => ({ similarity, correct }));
  const bound = boundedThreshold(verdicts, maxErrorRate)?.threshold ?? 1;
  const boundRates = rates(bound);
  const fixed = rates(threshold);
  return {
    threshold: Math.round(threshold * 1000) / 1000,
    hitRate: fixed.hitRate,
    wrongHitRate: fixed.wrongHitRate,
    bounded: {
      maxErrorRate,
      threshold: Math.round(bound * 1000) / 1000,
      hitRate: boundRates.hitRate,
      wrongShareOfHits: boundRates.wrongShareOfHits,
    },
  };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb || 1);
}

/**
 * (routing-quality) Routing and cache quality on the labelled sets in bench/data, for the lexical
 * embedder and the word-vector embedder side by side: top-1 / top-3 accuracy among 30 desks,
 * "no fit" precision, and the cache's hit and wrong-hit rates, on the held-out halves, with the
 * thresholds calibrated on the other halves (the defaults each embedder ships with).
 */
export const routingQualityFigure: Figure = {
  id: 'routing-quality',
  title: '(routing-quality) Routing and cache quality on labelled support requests, by embedder',
  async run(bench) {
    const sets = readQualitySets();
    const measurements: Measurement[] = [];
    const notes: string[] = [];
    const results: Record<string, { routing: RoutingQuality; cache: CacheQuality }> = {};
    for (const [label, embedder] of [
      ['lexical', new LexicalEmbedder()],
      ['word vectors', new WordVectorEmbedder()],
    ] as const) {
      bench.log(`routing-quality: ${label}`);
      const routing = await routingQuality(embedder, sets);
      const cache = await cacheQuality(embedder, sets);
      results[label] = { routing, cache };
      const add = (name: string, value: number, unit = 'share') =>
        measurements.push({
          label: `${label}: ${name}`,
          value: Math.round(value * 1000) / 1000,
          unit,
          samples: [value],
        });
      add('routing top-1', routing.top1);
      add('routing top-3', routing.top3);
      add('"no fit" precision', routing.noFitPrecision);
      add('"no fit" recall', routing.noFitRecall);
      add('requests that fit, sent to "no fit"', routing.fitsSentToFallback);
      add('cache hit rate (paraphrases served)', cache.hitRate);
      add('cache wrong-hit rate (of requests)', cache.wrongHitRate);
      add(`cache with error bound ${cache.bounded.maxErrorRate}: hit rate`, cache.bounded.hitRate);
      add(
        `cache with error bound ${cache.bounded.maxErrorRate}: wrong share of hits`,
        cache.bounded.wrongShareOfHits,
      );
      notes.push(
        `${label}: calibrated minScore ${routing.minScore}, cache threshold ${cache.threshold}, ` +
          `error-bound threshold ${cache.bounded.threshold} (from ${split(sets.pairs).calibration.length} verdicts)`,
      );
    }
    notes.push(
      `${sets.desks.length} desks, ${sets.requests.length} requests (${sets.requests.filter((r) => r.desk === null).length} fit no desk), ` +
        `${sets.pairs.length} cache pairs; even positions calibrate, odd positions are reported. Aims: top-1 ≥ 0.85, top-3 ≥ 0.95, wrong hits ≤ 1%.`,
    );
    return {
      measurements,
      ratio: {
        label: 'routing top-1, word vectors ÷ lexical',
        value: results['word vectors']!.routing.top1 / results.lexical!.routing.top1,
      },
      notes,
    };
  },
};
