import { join } from 'node:path';
import { CapabilityRegistry, type Capability } from '../src/routing/capability-registry.ts';
import { buildContext, type HistoryMessage } from '../src/routing/context-builder.ts';
import { ExactIndex } from '../src/routing/exact-index.ts';
import { HnswIndex } from '../src/routing/hnsw-index.ts';
import { LexicalEmbedder } from '../src/routing/lexical-embedder.ts';
import { SemanticCache, type CacheScope } from '../src/routing/semantic-cache.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, median, type Figure, type Measurement } from './harness.ts';

const DIMENSIONS = 512;
const QUERIES = 200;
/** Tasks timed per round for exact search (it is slow at 100k; its mean is per task all the same). */
const EXACT_TIMED = 20;
const HNSW = { M: 16, efConstruction: 64, efSearch: 48 };

/**
 * (routing) Capability routing over 10,000 and 100,000 synthetic capabilities, embedded with the
 * built-in lexical embedder (512 dimensions) and searched with HNSW, against exact brute-force search
 * over the same vectors: top-10 latency of a whole routing decision (embed the task, search, score)
 * and recall@10. Then semantic-cache lookup latency, and the tokens a long-running agent sends per
 * call with selective hydration against its full history.
 */
export const routing: Figure = {
  id: 'routing',
  title: '(routing) Capability routing (HNSW vs exact search), cache lookups, selective hydration',
  async run(bench) {
    const measurements: Measurement[] = [];
    const notes: string[] = [];
    let recall100k = 0;
    for (const size of [10_000, 100_000]) {
      const result = await capabilityRouting(size, bench.repeats, (message) => bench.log(message));
      measurements.push(...result.measurements);
      notes.push(result.note);
      if (size === 100_000) recall100k = result.recall;
    }
    const cache = await cacheLookups(bench.tempDir('routing-cache'), bench.repeats, (message) =>
      bench.log(message),
    );
    measurements.push(...cache.measurements);
    notes.push(cache.note);
    const hydration = await selectiveHydration((message) => bench.log(message));
    measurements.push(...hydration.measurements);
    notes.push(hydration.note);
    notes.push(
      `HNSW M ${HNSW.M}, efConstruction ${HNSW.efConstruction}, efSearch ${HNSW.efSearch}; dot products in WebAssembly SIMD. ` +
        `Capability texts are synthetic (400 topics of 40 words, plus shared words); queries are new texts from the same topics.`,
    );
    return {
      measurements,
      ratio: {
        label: 'recall@10 of HNSW against exact search, 100k capabilities',
        value: recall100k,
        aim: { atLeast: 0.95 },
      },
      notes,
    };
  },
};

// ---- synthetic capabilities ----------------------------------------------------------------------

const VERBS = [
  'refunds',
  'tracks',
  'translates',
  'summarises',
  'schedules',
  'audits',
  'reconciles',
  'forecasts',
  'escalates',
  'approves',
  'drafts',
  'classifies',
  'monitors',
  'migrates',
  'resets',
  'invoices',
  'quotes',
  'onboards',
  'cancels',
  'renews',
];
const DOMAINS = [
  'billing',
  'shipping',
  'identity',
  'legal',
  'support',
  'finance',
  'hr',
  'insurance',
  'retail',
  'logistics',
  'security',
  'compliance',
  'marketing',
  'sales',
  'procurement',
  'healthcare',
  'education',
  'travel',
  'energy',
  'telecom',
];
const SEGMENTS = [
  'enterprise',
  'small business',
  'consumer',
  'government',
  'nonprofit',
  'partner',
  'internal',
  'regional',
  'international',
  'premium',
];
const CHANNELS = ['email', 'chat', 'phone', 'api', 'portal', 'slack', 'sms', 'webhook'];
const GENERAL = [
  'customers',
  'requests',
  'questions',
  'issues',
  'cases',
  'teams',
  'accounts',
  'data',
  'records',
  'updates',
];
const TOPICS = 400;

/** Texts like "audits billing3w1 billing3wa … for enterprise finance customers via email", from a seeded generator. */
function textGenerator(seed: number): () => string {
  let state = seed >>> 0;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let vocabularySeed = 12345;
  const vocabularyRandom = () =>
    (vocabularySeed = (Math.imul(vocabularySeed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const topics = Array.from({ length: TOPICS }, (_, topic) => {
    const stem = DOMAINS[Math.floor(vocabularyRandom() * DOMAINS.length)]!;
    return Array.from({ length: 40 }, (_, word) => `${stem}${topic.toString(36)}w${word.toString(36)}`);
  });
  return () => {
    const words = topics[Math.floor(random() * TOPICS)]!;
    const parts = [pick(VERBS)];
    const count = 6 + Math.floor(random() * 6);
    for (let i = 0; i < count; i++) parts.push(random() < 0.8 ? pick(words) : pick(GENERAL));
    parts.push('for', pick(SEGMENTS), pick(DOMAINS), 'customers via', pick(CHANNELS));
    return parts.join(' ');
  };
}

/** The capability's name in an index key (`<name>\u001f<text number>`, as the registry writes them). */
function capabilityNameOfKey(key: string): string {
  const end = key.indexOf('\u001f');
  return end < 0 ? key : key.slice(0, end);
}

async function capabilityRouting(size: number, repeats: number, log: (message: string) => void) {
  const label = size >= 100_000 ? '100k' : '10k';
  const next = textGenerator(size);
  const capabilities: Capability[] = Array.from({ length: size }, (_, index) => ({
    name: `cap-${index}`,
    description: next(),
    cost: 1 + (index % 5),
  }));
  const embedder = new LexicalEmbedder({ dimensions: DIMENSIONS }).fit(
    capabilities.slice(0, 5000).map((c) => c.description),
  );
  let hnsw: HnswIndex | undefined;
  const began = performance.now();
  const registry = await CapabilityRegistry.open({
    embedder,
    createIndex: (dimensions) => (hnsw = new HnswIndex({ dimensions, ...HNSW, capacity: size })),
    capabilities,
    log,
  });
  const buildSeconds = (performance.now() - began) / 1000;
  log(`  ${label}: embedded and indexed in ${buildSeconds.toFixed(1)} s`);

  const exact = new ExactIndex({ dimensions: DIMENSIONS, capacity: size });
  for (const key of hnsw!.keys()) exact.add(key, hnsw!.get(key)!);
  const tasks = Array.from({ length: QUERIES }, textGenerator(size + 1));
  const vectors = await embedder.embed(tasks);

  let found = 0;
  for (const [index, task] of tasks.entries()) {
    const truth = new Set(exact.search(vectors[index]!, 10).map((hit) => capabilityNameOfKey(hit.key)));
    const ranking = await registry.rank(task, { k: 10, minScore: -1 });
    found += ranking.candidates.filter((candidate) => truth.has(candidate.name)).length;
  }
  const recall = found / (QUERIES * 10);

  // Each sample: the mean over all tasks. Routing = embed the task + search + score (registry.rank);
  // exact = embed the task + brute-force search over the same vectors.
  const samples = await interleave(
    {
      hnsw: async () => {
        const start = performance.now();
        for (const task of tasks) await registry.rank(task, { k: 10, minScore: -1 });
        return ((performance.now() - start) * 1000) / tasks.length;
      },
      exact: async () => {
        const start = performance.now();
        const some = tasks.slice(0, EXACT_TIMED);
        for (const task of some) exact.search((await embedder.embed([task]))[0]!, 10);
        return ((performance.now() - start) * 1000) / some.length;
      },
    },
    { warmup: 1, repeats: Math.min(repeats, 2) },
  );
  return {
    recall,
    measurements: [
      measurement(`route top-10, ${label} capabilities, HNSW`, 'µs', samples.hnsw),
      measurement(`route top-10, ${label} capabilities, exact search`, 'µs', samples.exact),
      measurement(`recall@10, ${label} capabilities`, '', [recall]),
    ],
    note:
      `${label}: embedding + HNSW build ${buildSeconds.toFixed(1)} s (lexical embedder, real texts, not random vectors); ` +
      `HNSW routes ${(median(samples.exact) / median(samples.hnsw)).toFixed(1)}× faster than exact search, recall@10 ${recall.toFixed(3)}.`,
  };
}

// ---- semantic cache ------------------------------------------------------------------------------

async function cacheLookups(dir: string, repeats: number, log: (message: string) => void) {
  const ENTRIES = 5000;
  const store = SqliteStore.open({ path: join(dir, 'cache.db'), durability: 'normal' });
  try {
    const next = textGenerator(77);
    const questions = Array.from({ length: ENTRIES }, (_, index) => `question ${index}: ${next()}`);
    const embedder = new LexicalEmbedder({ dimensions: DIMENSIONS }).fit(questions.slice(0, 2000));
    const cache = new SemanticCache({
      records: store.vectorRecords,
      embedder,
      threshold: 0.9,
      ttl: '1d',
      log,
    });
    const scope: CacheScope = { model: 'bench:model', system: 'You answer questions.', tools: [] };
    const request = (text: string) => ({ messages: [{ role: 'user', content: text }] });
    // Entries point at a source run, as they do in a workflow.
    const runId = 'run_bench_cache';
    await store.createRun(
      {
        runId,
        workflow: 'bench',
        tenant: 'acme',
        principal: 'user:bench',
        input: null,
        createdAt: Date.now(),
      },
      {
        runId,
        seq: 1,
        type: 'run.started',
        at: new Date().toISOString(),
        actor: 'user:bench',
        onBehalfOf: [],
        payload: { workflow: 'bench', input: null, format: 1, flags: [] },
        prevHash: '0'.repeat(64),
        hash: 'x',
      },
    );
    for (const [index, question] of questions.entries()) {
      await cache.store({
        tenant: 'acme',
        scope,
        request: request(question),
        response: { text: `answer ${index}` },
        source: { runId, seq: index + 2 },
      });
    }
    await cache.lookup({ tenant: 'acme', scope, request: request('warm up') });
    const exactProbe = questions.slice(0, 200);
    const similarProbe = exactProbe.map((question) => `${question} please`);
    const missProbe = Array.from({ length: 200 }, textGenerator(78));
    const brute = new ExactIndex({ dimensions: DIMENSIONS, capacity: ENTRIES });
    (await embedder.embed(questions)).forEach((vector, index) => brute.add(String(index), vector));
    let similarHits = 0;
    const timed = (probe: readonly string[], count?: (hit: boolean) => void) => async () => {
      const start = performance.now();
      for (const text of probe) {
        const found = await cache.lookup({ tenant: 'acme', scope, request: request(text) });
        count?.(found.hit);
      }
      return ((performance.now() - start) * 1000) / probe.length;
    };
    const samples = await interleave(
      {
        exact: timed(exactProbe),
        similar: timed(similarProbe, (hit) => (similarHits += hit ? 1 : 0)),
        miss: timed(missProbe),
        brute: async () => {
          const start = performance.now();
          for (const text of similarProbe) brute.search((await embedder.embed([text]))[0]!, 1);
          return ((performance.now() - start) * 1000) / similarProbe.length;
        },
      },
      { warmup: 1, repeats: Math.min(repeats, 3) },
    );
    const rounds = Math.min(repeats, 3) + 1;
    return {
      measurements: [
        measurement(`cache lookup, exact hit (${ENTRIES} entries)`, 'µs', samples.exact),
        measurement('cache lookup, similar hit', 'µs', samples.similar),
        measurement('cache lookup, miss', 'µs', samples.miss),
        measurement('brute-force nearest entry (embed + exact scan)', 'µs', samples.brute),
      ],
      note: `cache: ${ENTRIES} entries in SQLite + HNSW; ${((similarHits / (similarProbe.length * rounds)) * 100).toFixed(0)}% of reworded questions hit at similarity ≥ 0.9.`,
    };
  } finally {
    await store.close();
  }
}

// ---- selective hydration -------------------------------------------------------------------------

async function selectiveHydration(log: (message: string) => void) {
  const TURNS = 400;
  const BUDGET = 2000;
  const next = textGenerator(5);
  const messages: HistoryMessage[] = [
    { role: 'system', content: 'You are a long-running operations agent. Keep answers short.' },
  ];
  const facts: { turn: number; code: string }[] = [];
  const embedder = new LexicalEmbedder({ dimensions: DIMENSIONS }).fit(
    Array.from({ length: 2000 }, textGenerator(6)),
  );
  const vectorCache = new Map<string, Float32Array>();
  let fullTotal = 0;
  let hydratedTotal = 0;
  let calls = 0;
  let recalled = 0;
  let asked = 0;
  for (let turn = 0; turn < TURNS; turn++) {
    if (turn % 25 === 3) {
      const code = `ticket-${(turn * 7919).toString(36)}`;
      facts.push({ turn, code });
      messages.push({
        role: 'user',
        content: `Remember: the escalation code for the ${DOMAINS[turn % DOMAINS.length]} outage is ${code}.`,
      });
    } else if (turn % 25 === 20 && facts.length > 1) {
      const fact = facts[Math.floor(facts.length / 2)]!;
      messages.push({
        role: 'user',
        content: `What was the escalation code for the ${DOMAINS[fact.turn % DOMAINS.length]} outage?`,
      });
      const built = await buildContext({ messages, tokens: BUDGET, embedder, vectorCache });
      asked++;
      if (built.messages.some((message) => message.content.includes(fact.code))) recalled++;
    } else {
      messages.push({ role: 'user', content: next() });
    }
    const built = await buildContext({ messages, tokens: BUDGET, embedder, vectorCache });
    fullTotal += built.fullTokens;
    hydratedTotal += built.tokens;
    calls++;
    messages.push({ role: 'assistant', content: `Done: ${next()}. ${next()}.` });
  }
  log(`  hydration: ${TURNS} turns`);
  const full = fullTotal / calls;
  const hydrated = hydratedTotal / calls;
  return {
    measurements: [
      measurement(`tokens per call, full history (${TURNS} turns)`, 'tokens', [full]),
      measurement(`tokens per call, selective hydration (budget ${BUDGET})`, 'tokens', [hydrated]),
    ],
    note:
      `hydration: ${(full / hydrated).toFixed(1)}× fewer tokens per call (estimated tokens, ~4 chars each); ` +
      `${recalled}/${asked} questions about a fact from far back still had it in their context.`,
  };
}
