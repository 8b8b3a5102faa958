import { readFileSync } from 'node:fs';
import { boundedThreshold, type CacheVerdict } from '../src/routing/cache-error-bound.ts';
import { CapabilityRegistry } from '../src/routing/capability-registry.ts';
import { calibratedDefaults, type Embedder } from '../src/routing/embedder.ts';
import { LexicalEmbedder } from '../src/routing/lexical-embedder.ts';
import { WordVectorEmbedder } from '../src/routing/word-vector-embedder.ts';
import { median, type Figure, type Measurement } from './harness.ts';

/**
 * The labelled sets (bench/data): desks, the examples each desk declares, requests labelled with
 * their desk (even positions tune, odd positions are held out), a second held-out set written in
 * another style and frozen before tuning, and cache pairs.
 */
export interface QualitySets {
  desks: { name: string; description: string }[];
  examples: Record<string, string[]>;
  requests: LabelledRequest[];
  fresh: LabelledRequest[];
  pairs: { cached: string; asked: string; sameAnswer: boolean }[];
}

export interface LabelledRequest {
  text: string;
  /** The desk that should answer it; null when no desk fits. */
  desk: string | null;
}

export function readQualitySets(): QualitySets {
  const read = (file: string): any =>
    JSON.parse(readFileSync(new URL(`./data/${file}`, import.meta.url), 'utf8'));
  return {
    desks: read('support-desks.json').desks,
    examples: read('support-desk-examples.json').examples,
    requests: read('support-requests.json').requests,
    fresh: read('support-requests-fresh.json').requests,
    pairs: read('cache-pairs.json').pairs,
  };
}

/** Even positions tune, odd positions are held out. */
export function split<T>(items: readonly T[]): { calibration: T[]; heldOut: T[] } {
  return {
    calibration: items.filter((_, index) => index % 2 === 0),
    heldOut: items.filter((_, index) => index % 2 === 1),
  };
}

/** Parts of the registry's ordering to turn off (both are on by default). */
export interface RankingParts {
  classifier?: false;
  alignment?: false;
}

/** What the desks know: their descriptions; plus the examples they declare; plus confirmed routes. */
export type DeskKnowledge = 'descriptions' | 'declared examples' | 'learnt routes';

export interface Accuracy {
  top1: number;
  top3: number;
  /** Of the requests routed to "no fit" (best similarity under minScore), the share that fit no desk. */
  noFitPrecision: number;
  /** Of the requests that fit no desk, the share routed to "no fit". */
  noFitRecall: number;
  /** Of the requests that fit a desk, the share sent to "no fit". */
  fitsSentToFallback: number;
}

export interface RoutingQuality {
  knowledge: DeskKnowledge;
  /** The minScore chosen on the tuning half: 95% of its requests that fit a desk clear it. */
  minScore: number;
  /** On the tuning half (absent for learnt routes, which are learnt from it). */
  tuning: Accuracy | undefined;
  heldOut: Accuracy;
  fresh: Accuracy;
  /** The same, with "no fit" at the minScore the embedder ships with (its calibrated default). */
  atShippedMinScore: { minScore: number; heldOut: Accuracy; fresh: Accuracy };
}

/**
 * Routing accuracy among the desks, with minScore calibrated on the tuning half. With 'learnt
 * routes', every tuning request that fits a desk is confirmed to it (`registry.learn`) first.
 */
export async function routingQuality(
  embedder: Embedder,
  sets: QualitySets,
  knowledge: DeskKnowledge = 'declared examples',
  options: RankingParts = {},
): Promise<RoutingQuality> {
  const { calibration, heldOut } = split(sets.requests);
  const capabilities = sets.desks.map((desk) => ({
    ...desk,
    examples: knowledge === 'descriptions' ? [] : (sets.examples[desk.name] ?? []),
  }));
  const registry = await CapabilityRegistry.open({
    embedder,
    capabilities,
    log: () => {},
    ...(options.classifier === false ? { classifier: false as const } : {}),
    ...(options.alignment === false ? { alignment: false as const } : {}),
  });
  const rank = (requests: readonly LabelledRequest[]) =>
    Promise.all(
      requests.map(async (request) => {
        const ranking = await registry.rank(request.text, { k: 3, minScore: -1 });
        // "No fit" is the best similarity under minScore, whatever orders the candidates above it.
        const all = await registry.rank(request.text, { k: registry.size, minScore: -1 });
        return {
          request,
          names: ranking.candidates.map((c) => c.name),
          top: Math.max(...all.candidates.map((c) => c.similarity)),
        };
      }),
    );
  const tuned = await rank(calibration);
  // minScore: the highest cut that still routes 95% of the tuning requests that fit a desk
  // (a request that fits is sent to the fallback at most 1 time in 20). Taken before any route
  // is learnt: learnt tuning requests would match themselves.
  const fitting = tuned
    .filter((item) => item.request.desk !== null)
    .map((item) => item.top)
    .sort((a, b) => a - b);
  const calibrated = fitting[Math.floor(fitting.length * 0.05)]!;
  if (knowledge === 'learnt routes') {
    for (const request of calibration)
      if (request.desk !== null) await registry.learn(request.desk, request.text);
  }
  const accuracy = (ranked: Awaited<ReturnType<typeof rank>>, minScore = calibrated): Accuracy => {
    const fits = ranked.filter((item) => item.request.desk !== null);
    const noFit = ranked.filter((item) => item.top < minScore);
    const none = ranked.filter((item) => item.request.desk === null);
    return {
      top1: fits.filter((item) => item.names[0] === item.request.desk).length / fits.length,
      top3: fits.filter((item) => item.names.includes(item.request.desk!)).length / fits.length,
      noFitPrecision: noFit.filter((item) => item.request.desk === null).length / Math.max(1, noFit.length),
      noFitRecall: none.filter((item) => item.top < minScore).length / Math.max(1, none.length),
      fitsSentToFallback: fits.filter((item) => item.top < minScore).length / fits.length,
    };
  };
  const [held, fresh] = [await rank(heldOut), await rank(sets.fresh)];
  const defaults = calibratedDefaults(embedder);
  const shipped =
    knowledge === 'descriptions' ? defaults.minScore : (defaults.minScoreWithExamples ?? defaults.minScore);
  return {
    knowledge,
    minScore: Math.round(calibrated * 1000) / 1000,
    tuning: knowledge === 'learnt routes' ? undefined : accuracy(tuned),
    heldOut: accuracy(held),
    fresh: accuracy(fresh),
    atShippedMinScore: {
      minScore: shipped,
      heldOut: accuracy(held, shipped),
      fresh: accuracy(fresh, shipped),
    },
  };
}

export interface CacheQuality {
  /**
   * The threshold chosen on the calibration pairs: the lowest at which at most one in fifty of them
   * is served a wrong entry (with 78 pairs: one, "turn on" / "turn off" two-factor authentication,
   * which static word vectors put at 0.95).
   */
  threshold: number;
  /** Held-out paraphrases served from their entry. */
  hitRate: number;
  /** Held-out requests served a wrong entry (a near miss, or another request's answer). */
  wrongHitRate: number;
  /** With an error bound learnt from the calibration verdicts: its threshold and held-out rates. */
  bounded: { maxErrorRate: number; threshold: number; hitRate: number; wrongShareOfHits: number };
  /** The similarity of the issue's paraphrase pair ("…for damaged items?" / "…for items that arrived damaged?"). */
  issuePair: number;
  /** At the threshold the embedder ships with (its calibrated default): held-out rates, and whether the issue's pair is served. */
  atShipped: { threshold: number; hitRate: number; wrongHitRate: number; servesIssuePair: boolean };
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
  const wrong = calibrated
    .filter((item) => !item.correct)
    .map((item) => item.similarity)
    .sort((a, b) => b - a);
  const allowed = Math.floor(calibrated.length / 50);
  const threshold = Math.min(1, Math.max(0, wrong[allowed] ?? 0) + 1e-3);
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
  const [damaged, arrived] = await embedder.embed([
    'What is the refund policy for damaged items?',
    'What is the refund policy for items that arrived damaged?',
  ]);
  const fixed = rates(threshold);
  const shipped = calibratedDefaults(embedder).cacheThreshold;
  const issuePair = cosine(damaged!, arrived!);
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
    issuePair: Math.round(issuePair * 1000) / 1000,
    atShipped: {
      threshold: shipped,
      hitRate: rates(shipped).hitRate,
      wrongHitRate: rates(shipped).wrongHitRate,
      servesIssuePair: issuePair >= shipped,
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
 * The routing methods compared: each offline embedder ranking by similarity alone, with the
 * classifier, and (word vectors, whose words align) with the classifier and word alignment: the
 * default of each is its last.
 */
const METHODS: readonly { label: string; embedder: () => Embedder; parts: RankingParts; cache?: true }[] = [
  { label: 'lexical', embedder: () => new LexicalEmbedder(), parts: { classifier: false }, cache: true },
  { label: 'lexical + classifier', embedder: () => new LexicalEmbedder(), parts: {} },
  {
    label: 'word vectors',
    embedder: () => new WordVectorEmbedder(),
    parts: { classifier: false, alignment: false },
    cache: true,
  },
  {
    label: 'word vectors + classifier',
    embedder: () => new WordVectorEmbedder(),
    parts: { alignment: false },
  },
  { label: 'word vectors + cl. + alignment', embedder: () => new WordVectorEmbedder(), parts: {} },
];

/** One line of the routing figures: top-1/top-3 and "no fit" precision/recall on each set. */
function qualityNote(label: string, quality: RoutingQuality): string {
  const row = (name: string, accuracy: Accuracy | undefined) =>
    accuracy
      ? `${name} ${accuracy.top1.toFixed(2)}/${accuracy.top3.toFixed(2)} (no fit ${accuracy.noFitPrecision.toFixed(2)}/${accuracy.noFitRecall.toFixed(2)})`
      : `${name} (learnt from)`;
  const shipped = quality.atShippedMinScore;
  return (
    `${label.padEnd(30)} ${quality.knowledge.padEnd(17)} top-1/top-3 (no-fit precision/recall): ` +
    [row('tuning', quality.tuning), row('held-out', quality.heldOut), row('fresh', quality.fresh)].join(
      '  ',
    ) +
    `  minScore ${quality.minScore}; at the shipped minScore ${shipped.minScore}, no fit ` +
    `${shipped.heldOut.noFitPrecision.toFixed(2)}/${shipped.heldOut.noFitRecall.toFixed(2)} held-out, ` +
    `${shipped.fresh.noFitPrecision.toFixed(2)}/${shipped.fresh.noFitRecall.toFixed(2)} fresh`
  );
}

/**
 * The CPU time of one route (embed the task, search, score, order) among the 30 desks with declared
 * examples, by similarity alone, with the classifier, and with the classifier and word alignment
 * (the default), in alternating rounds; and the time to fit the classifier at open.
 */
export async function routeCost(
  sets: QualitySets,
  repeats: number,
): Promise<{ microseconds: Record<'similarity' | 'classifier' | 'alignment', number>; fitMs: number }> {
  const capabilities = sets.desks.map((desk) => ({ ...desk, examples: sets.examples[desk.name] ?? [] }));
  const embedder = new WordVectorEmbedder();
  const open = (parts: RankingParts) =>
    CapabilityRegistry.open({ embedder, capabilities, log: () => {}, ...parts });
  await (await open({ classifier: false })).rank('warm the word vectors up');
  const opened: { with: number[]; without: number[] } = { with: [], without: [] };
  for (let round = 0; round < 3; round++) {
    opened.with.push(await timeOpen(() => open({})));
    opened.without.push(await timeOpen(() => open({ classifier: false })));
  }
  const fitMs = median(opened.with) - median(opened.without);
  const registries = {
    similarity: await open({ classifier: false, alignment: false }),
    classifier: await open({ alignment: false }),
    alignment: await open({}),
  };
  const texts = sets.requests.map((request) => request.text);
  const rounds = { similarity: [] as number[], classifier: [] as number[], alignment: [] as number[] };
  for (let round = 0; round < Math.max(3, repeats); round++) {
    for (const [method, registry] of Object.entries(registries) as [
      keyof typeof rounds,
      CapabilityRegistry,
    ][]) {
      const started = process.cpuUsage();
      for (const text of texts) await registry.rank(text, { k: 3 });
      const used = process.cpuUsage(started);
      rounds[method].push((used.user + used.system) / texts.length);
    }
  }
  return {
    microseconds: {
      similarity: median(rounds.similarity),
      classifier: median(rounds.classifier),
      alignment: median(rounds.alignment),
    },
    fitMs: Math.max(0, fitMs),
  };
}

async function timeOpen(open: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await open();
  return performance.now() - started;
}

/**
 * (routing-quality) Routing and cache quality on the labelled sets in bench/data, for the lexical
 * embedder and the word-vector embedder (the default), each ranking by similarity alone, with the
 * registry's classifier, and (word vectors) with the classifier and word alignment (the default), side by side: top-1 / top-3 accuracy among 30 desks, "no
 * fit" precision and recall, on the tuning half, the held-out half and a second held-out set, for
 * desks known by their descriptions, with the examples they declare, and after the tuning half's
 * routes were confirmed; the cache's hit and wrong-hit rates on held-out pairs at the threshold
 * calibrated on the others; and what the classifier and the alignment cost a route.
 */
export const routingQualityFigure: Figure = {
  id: 'routing-quality',
  title: '(routing-quality) Routing and cache quality on labelled support requests, by embedder',
  async run(bench) {
    const sets = readQualitySets();
    const measurements: Measurement[] = [];
    const notes: string[] = [];
    const results = new Map<string, RoutingQuality>();
    const add = (label: string, value: number) =>
      measurements.push({ label, value: Math.round(value * 1000) / 1000, unit: 'share', samples: [value] });
    for (const method of METHODS) {
      const { label } = method;
      const embedder = method.embedder();
      bench.log(`routing-quality: ${label}`);
      for (const knowledge of ['descriptions', 'declared examples', 'learnt routes'] as const) {
        const quality = await routingQuality(embedder, sets, knowledge, method.parts);
        results.set(`${label}/${knowledge}`, quality);
        notes.push(qualityNote(label, quality));
      }
      const declared = results.get(`${label}/declared examples`)!;
      add(`${label}: routing top-1, held-out (declared examples)`, declared.heldOut.top1);
      add(`${label}: routing top-3, held-out (declared examples)`, declared.heldOut.top3);
      add(`${label}: routing top-1, fresh set (declared examples)`, declared.fresh.top1);
      add(`${label}: routing top-3, fresh set (declared examples)`, declared.fresh.top3);
      add(`${label}: "no fit" precision, held-out`, declared.heldOut.noFitPrecision);
      add(`${label}: "no fit" recall, held-out`, declared.heldOut.noFitRecall);
      const described = results.get(`${label}/descriptions`)!;
      add(`${label}: routing top-1, held-out (descriptions only)`, described.heldOut.top1);
      const learnt = results.get(`${label}/learnt routes`)!;
      add(`${label}: routing top-1, held-out (after learnt routes)`, learnt.heldOut.top1);
      if (!method.cache) continue;
      // The cache compares texts through the embedder alone: once per embedder.
      const cache = await cacheQuality(embedder, sets);
      add(`${label}: cache hit rate (held-out paraphrases served)`, cache.hitRate);
      add(`${label}: cache wrong-hit rate (of held-out requests)`, cache.wrongHitRate);
      add(
        `${label}: cache hit rate at the shipped threshold ${cache.atShipped.threshold}`,
        cache.atShipped.hitRate,
      );
      add(
        `${label}: cache wrong-hit rate at the shipped threshold ${cache.atShipped.threshold}`,
        cache.atShipped.wrongHitRate,
      );
      add(`${label}: cache with error bound ${cache.bounded.maxErrorRate}: hit rate`, cache.bounded.hitRate);
      add(
        `${label}: cache with error bound ${cache.bounded.maxErrorRate}: wrong share of hits`,
        cache.bounded.wrongShareOfHits,
      );
      notes.push(
        `${label}: cache threshold ${cache.threshold} (the lowest with at most one wrong hit in fifty on the tuning pairs), ` +
          `error-bound threshold ${cache.bounded.threshold} (from ${split(sets.pairs).calibration.length} verdicts); ` +
          `the issue's pair ("…for damaged items?" / "…for items that arrived damaged?") at similarity ${cache.issuePair}, ` +
          `${cache.atShipped.servesIssuePair ? 'served' : 'not served'} at the shipped threshold ${cache.atShipped.threshold}`,
      );
    }
    const cost = await routeCost(sets, bench.repeats);
    const cpu = cost.microseconds;
    for (const [method, label] of [
      ['alignment', 'with the classifier and word alignment (default)'],
      ['classifier', 'with the classifier'],
      ['similarity', 'similarity alone'],
    ] as const) {
      measurements.push({
        label: `route among 30 desks, ${label}, CPU`,
        value: Math.round(cpu[method]),
        unit: 'µs',
        samples: [cpu[method]],
      });
    }
    notes.push(
      `A route takes ${(cpu.alignment / cpu.similarity).toFixed(2)}× the CPU of one by similarity alone with the ` +
        `classifier and word alignment (${cpu.alignment.toFixed(0)} µs against ${cpu.similarity.toFixed(0)} µs, median ` +
        `of rounds), ${(cpu.classifier / cpu.similarity).toFixed(2)}× with the classifier alone; fitting the ` +
        `classifier on the 30 desks' 210 texts took about ${cost.fitMs.toFixed(0)} ms at open.`,
    );
    notes.push(
      `${sets.desks.length} desks (${Object.values(sets.examples).flat().length} declared examples), ${sets.requests.length} requests ` +
        `(${sets.requests.filter((r) => r.desk === null).length} fit no desk; even positions tune, odd are held out), ` +
        `a fresh held-out set of ${sets.fresh.length} (${sets.fresh.filter((r) => r.desk === null).length} fit no desk), ` +
        `${sets.pairs.length} cache pairs. Aims: top-1 ≥ 0.85, top-3 ≥ 0.95, wrong hits ≤ 1%.`,
    );
    return {
      measurements,
      ratio: {
        label:
          'held-out routing top-1 of the default (word vectors + classifier + alignment, declared examples) ÷ the aim 0.85',
        value: results.get('word vectors + cl. + alignment/declared examples')!.heldOut.top1 / 0.85,
        aim: { atLeast: 1 },
      },
      notes,
    };
  },
};
