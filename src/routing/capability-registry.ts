import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.ts';
import type { VectorRecordScope, VectorRecordStore } from '../store/vector-records.ts';
import { calibratedDefaults, embedChecked, embeddingSpace, type Embedder } from './embedder.ts';
import { checkPositiveInteger, checkSimilarity, checkText, checkUnitInterval } from '../argument-checks.ts';
import { EmptyRegistryError, abbreviate } from './routing-errors.ts';
import { defaultIndexFactory, type IndexFactory } from './synced-index.ts';
import { dot, normalize, type VectorIndex } from './vector-index.ts';
import { roundScore } from '../rounding.ts';
import {
  CapabilityClassifier,
  resolveClassifierOptions,
  type CapabilityClassifierOptions,
  type ResolvedClassifierOptions,
} from './capability-classifier.ts';
import type { AlignedWords, WordAligner } from './word-alignment.ts';

/**
 * What an agent or tool can do, as text to match tasks against. An agent made with `agent({ name,
 * description, … })` is one as it is; `examples` (tasks it handles) sharpen the match.
 */
export interface Capability {
  name: string;
  description: string;
  examples?: readonly string[];
  /** What choosing it costs, in any unit used consistently (USD per call, a model's price…). Default 1. */
  cost?: number;
  /** 'agent', 'tool', … (for reading decisions). Default 'agent'. */
  kind?: string;
}

export interface CapabilityRegistryOptions {
  embedder: Embedder;
  /**
   * Where capability vectors persist between runs (`store.vectorRecords`), so a restart re-embeds
   * only what changed. Without it the index is built in memory at every start.
   */
  records?: VectorRecordStore;
  /** The in-memory index. Default HNSW (M 16, efConstruction 200, efSearch 64). */
  createIndex?: IndexFactory;
  /** Where the registry says what it did at start (a rebuild after a dimension change). Default console.warn. */
  log?: (message: string) => void;
  /**
   * A classifier fitted on the registry's own texts (descriptions, examples, learnt tasks) that helps
   * order the candidates which reached `minScore`; `false` ranks by similarity alone. Default on, for
   * registries up to its `maxWork` (about 30 capabilities of 7 texts fit 3 times over).
   */
  classifier?: CapabilityClassifierOptions | false;
  /**
   * Word-level alignment of the task to each shortlisted capability's words (see {@link WordAligner}),
   * added as `weight × alignment` when the candidates that reached `minScore` are ordered; `false`
   * orders without it. Used when the embedder has a word space (`WordVectorEmbedder`). Default weight 1.
   */
  alignment?: { weight?: number } | false;
}

export interface RankOptions {
  /** How many candidates to return. Default 5. */
  k?: number;
  /**
   * Similarity a candidate needs to be chosen, in [-1, 1]: below it, no capability fits. Default:
   * the embedder's calibrated `minScore` (measured on labelled requests), else 0.2; when most
   * capabilities have examples or learnt tasks, its `minScoreWithExamples` if it has one.
   */
  minScore?: number;
  /** 0: the most similar eligible candidate wins; 1: the cheapest eligible one; between: a blend. Default 0. */
  costBias?: number;
  /** Route only among these names (a supervisor's team). Default: all registered. */
  candidates?: readonly string[];
}

export interface RankedCandidate {
  name: string;
  kind: string;
  /** Cosine similarity of the task to the capability: the mean of its two best-matching texts (or its only one). */
  similarity: number;
  /**
   * The registry classifier's probability that the task belongs to this capability (see
   * {@link CapabilityRegistryOptions.classifier}); absent when the registry has none.
   */
  confidence?: number;
  /**
   * How well the task's words align with the capability's words, in [-1, 1] (see
   * {@link CapabilityRegistryOptions.alignment}); absent when the registry does not align words, and
   * for candidates under minScore.
   */
  alignment?: number;
  cost: number;
  /**
   * The final score: (1 − costBias)·relevance + costBias·(cheapest cost ÷ cost), where relevance is
   * similarity (plus the classifier's weight × confidence, plus the alignment's weight × alignment)
   * scaled above minScore; 0 when not eligible.
   */
  score: number;
  /** True when the similarity cleared minScore. */
  eligible: boolean;
}

export interface Ranking {
  chosen: RankedCandidate | undefined;
  /** Eligible candidates by score, then the others by similarity. */
  candidates: RankedCandidate[];
  reason: string;
  options: { k: number; minScore: number; costBias: number };
  space: string;
}

interface Entry {
  capability: Required<Pick<Capability, 'name' | 'description' | 'cost' | 'kind'>> & {
    examples: readonly string[];
  };
  keys: string[];
}

const COLLECTION = 'capability';
const SCOPE: VectorRecordScope = { collection: COLLECTION, tenant: '*', partition: '' };
/** Between a capability's name and its text's number in a key (PostgreSQL text cannot hold NUL). */
const SEPARATOR = '\u001f';
/** The separator of keys written before, dropped at open and written again. */
const OLD_SEPARATOR = '\u0000';

/**
 * The capability index: the agents and tools that can be routed to, each embedded (its
 * description, and each example on its own) into a vector index. Open it at start with the
 * capabilities of the registered agents; `register` keeps it up to date afterwards.
 *
 * With `records`, vectors persist in the store: a restart embeds only new or changed texts. When the
 * stored vectors were made in another embedding space (another embedder, or another number of
 * dimensions), they are dropped and everything is re-embedded, and the registry says so (`notices`).
 *
 * @example
 * const registry = await CapabilityRegistry.open({
 *   embedder: new LexicalEmbedder(),
 *   records: baton.store.vectorRecords,
 *   capabilities: [billing, shipping, refundTool],
 * });
 * const ranking = await registry.rank('refund my duplicate charge', { k: 3, costBias: 0.5 });
 */
export class CapabilityRegistry {
  readonly embedder: Embedder;
  readonly space: string;
  /** What the registry did at open that a person should know (rebuilds). */
  readonly notices: string[] = [];
  readonly #records: VectorRecordStore | undefined;
  readonly #index: VectorIndex;
  readonly #entries = new Map<string, Entry>();
  /** Stored vectors by key, read at open, with the hash of the text they embed. */
  readonly #stored = new Map<string, { textHash: string; vector: Float32Array }>();
  /** Keys of the tasks learnt for each capability name ({@link learn}), kept across restarts. */
  readonly #learnt = new Map<string, Set<string>>();
  /** Learnt tasks whose stored vectors were made in another space: embedded again at open. */
  readonly #relearn: { name: string; task: string }[] = [];
  /** Such tasks of capabilities not registered yet: learnt again when they are. */
  readonly #pendingRelearn: { name: string; task: string }[] = [];
  readonly #log: (message: string) => void;
  readonly #classifierOptions: ResolvedClassifierOptions | undefined;
  /** Fitted on the registered texts; refitted at the next rank after they change. */
  #classifier: CapabilityClassifier | undefined;
  #classifierStale = true;
  /** {@link hasExamples}, counted again after the registered texts change. */
  #hasExamples: boolean | undefined;
  /** The embedder's word aligner, when it has one and alignment is on; asked for at the first rank. */
  #aligner: Promise<WordAligner | undefined> | undefined;
  readonly #alignmentWeight: number;
  /**
   * Capabilities' pooled words, built at their first alignment after their texts change; the
   * {@link POOLS_KEPT} most recently used are kept (a pool is a few KB; a registry can hold 100,000).
   */
  readonly #pools = new Map<string, AlignedWords>();
  /** The texts of learnt tasks by key (their vectors are in the index), for alignment. */
  readonly #learntTexts = new Map<string, string>();

  private constructor(options: CapabilityRegistryOptions) {
    this.embedder = options.embedder;
    this.space = embeddingSpace(options.embedder);
    this.#records = options.records;
    this.#index = (options.createIndex ?? defaultIndexFactory)(options.embedder.dimensions);
    this.#log = options.log ?? ((message) => console.warn(`[baton] ${message}`));
    this.#classifierOptions = resolveClassifierOptions(options.classifier);
    this.#alignmentWeight =
      options.alignment === false ? 0 : checkWeight(options.alignment?.weight ?? DEFAULT_ALIGNMENT_WEIGHT);
  }

  /** Opens the registry: reads stored vectors (rebuilding on a space change), then registers `capabilities`. */
  static async open(
    options: CapabilityRegistryOptions & { capabilities?: readonly Capability[] },
  ): Promise<CapabilityRegistry> {
    const registry = new CapabilityRegistry(options);
    await registry.#load();
    if (options.capabilities?.length) await registry.register(...options.capabilities);
    for (const { name, task } of registry.#relearn.splice(0)) {
      if (registry.has(name)) await registry.learn(name, task);
      else registry.#pendingRelearn.push({ name, task });
    }
    registry.#currentClassifier();
    return registry;
  }

  async #load(): Promise<void> {
    const records = this.#records;
    if (!records) return;
    const stale: string[] = [];
    const spaces = new Set<string>();
    for (let afterId = 0; ;) {
      const page = await records.scanVectorRecords(SCOPE, { afterId, limit: 5000 });
      if (page.length === 0) break;
      for (const record of page) {
        afterId = record.id;
        if (record.key.includes(OLD_SEPARATOR)) {
          stale.push(record.key);
          continue;
        }
        const learnt = (record.data as { learnt?: boolean }).learnt === true;
        if (record.space !== this.space) {
          stale.push(record.key);
          spaces.add(record.space);
          if (learnt && record.text) this.#relearn.push({ name: nameOf(record.key), task: record.text });
          continue;
        }
        if (learnt) {
          this.#learntKeys(nameOf(record.key)).add(record.key);
          if (record.text) this.#learntTexts.set(record.key, record.text);
        }
        this.#stored.set(record.key, {
          textHash: (record.data as { textHash: string }).textHash,
          vector: record.vector,
        });
      }
    }
    if (stale.length > 0 && spaces.size === 0) {
      await records.deleteVectorRecords(SCOPE, stale);
    } else if (stale.length > 0) {
      const message =
        `Capability index: ${stale.length} stored vector(s) were made in ${[...spaces].join(', ')}, but the embedder ` +
        `now makes ${this.space}; dropping them and re-embedding every capability.`;
      this.notices.push(message);
      this.#log(message);
      await records.deleteVectorRecords(SCOPE, stale);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  get(name: string): Capability | undefined {
    return this.#entries.get(name)?.capability;
  }

  /**
   * True when most registered capabilities have texts besides their description (declared
   * examples or learnt tasks): the default `minScore` is then the embedder's `minScoreWithExamples`.
   */
  get hasExamples(): boolean {
    if (this.#hasExamples === undefined) {
      let withExamples = 0;
      for (const entry of this.#entries.values()) if (entry.keys.length > 1) withExamples++;
      this.#hasExamples = this.#entries.size > 0 && withExamples * 2 >= this.#entries.size;
    }
    return this.#hasExamples;
  }

  list(): Capability[] {
    return [...this.#entries.values()].map((entry) => entry.capability);
  }

  /**
   * Adds capabilities, or replaces those already registered under the same name. Texts whose vectors
   * are stored (same text, same space) are not embedded again.
   */
  async register(...capabilities: readonly Capability[]): Promise<void> {
    const pending: { key: string; text: string; textHash: string }[] = [];
    const entries: Entry[] = [];
    for (const given of capabilities) {
      const capability = checkCapability(given);
      const texts = [capabilityText(capability), ...capability.examples];
      const keys = texts.map((_, index) => `${capability.name}${SEPARATOR}${index}`);
      for (const key of this.#learnt.get(capability.name) ?? []) {
        const stored = this.#stored.get(key);
        if (stored) this.#index.add(key, stored.vector);
        keys.push(key);
      }
      entries.push({ capability, keys });
      texts.forEach((text, index) => {
        const key = keys[index]!;
        const textHash = hashText(text);
        const stored = this.#stored.get(key);
        if (stored?.textHash === textHash) this.#index.add(key, stored.vector);
        else pending.push({ key, text, textHash });
      });
    }
    const vectors = await embedChecked(
      this.embedder,
      pending.map((item) => item.text),
    );
    for (const [index, item] of pending.entries()) {
      const vector = normalize(vectors[index]!);
      this.#index.add(item.key, vector);
      this.#stored.set(item.key, { textHash: item.textHash, vector });
      await this.#records?.putVectorRecord({
        ...SCOPE,
        key: item.key,
        space: this.space,
        vector,
        text: item.text,
        data: { textHash: item.textHash },
        createdAt: Date.now(),
      });
    }
    for (const entry of entries) {
      const previous = this.#entries.get(entry.capability.name);
      for (const key of previous?.keys ?? []) {
        if (!entry.keys.includes(key)) this.#index.remove(key);
      }
      this.#entries.set(entry.capability.name, entry);
    }
    this.#changed();
    const waiting = this.#pendingRelearn.filter((item) => this.#entries.has(item.name));
    for (const item of waiting) this.#pendingRelearn.splice(this.#pendingRelearn.indexOf(item), 1);
    for (const { name, task } of waiting) await this.learn(name, task);
  }

  /** Removes a capability from routing (its stored vectors stay, for a later registration). */
  unregister(name: string): boolean {
    const entry = this.#entries.get(name);
    if (!entry) return false;
    for (const key of entry.keys) this.#index.remove(key);
    this.#entries.delete(name);
    this.#changed();
    return true;
  }

  /**
   * Ranks the registered capabilities for a task. Not journaled: in a workflow use
   * {@link routeByCapability} (or `ctx.route`), which journals the decision.
   */
  async rank(task: string, options: RankOptions = {}): Promise<Ranking> {
    const resolved = resolveRankOptions(options, this.embedder, { examples: this.hasExamples });
    checkText(task, 'The task to route');
    if (this.#entries.size === 0) throw new EmptyRegistryError({ task });
    const only = options.candidates;
    for (const name of only ?? []) {
      if (!this.#entries.has(name)) {
        throw new InvalidArgumentError(
          `Cannot route among candidate '${name}': no capability of that name is registered.`,
        );
      }
    }
    const [taskVector] = await embedChecked(this.embedder, [task]);
    const query = normalize(taskVector!);
    const classifier = this.#currentClassifier();
    const confidence = classifier?.probabilities(query);
    const best = only
      ? this.#scoreSome(query, only)
      : this.#searchAll(query, resolved.k, confidence && likeliest(confidence, resolved.k));
    // Only candidates that reach minScore are ordered by score: the others need no alignment.
    const alignment = await this.#align(
      task,
      [...best].filter(([, similarity]) => similarity >= resolved.minScore).map(([name]) => name),
    );
    const ranked = score(
      [...best].map(([name, similarity]) => ({
        entry: this.#entries.get(name)!,
        similarity,
        confidence: confidence?.get(name),
        alignment: alignment?.get(name),
      })),
      {
        ...resolved,
        weight: confidence ? this.#classifierOptions!.weight : 0,
        alignmentWeight: alignment ? this.#alignmentWeight : 0,
      },
    );
    const candidates = ranked.slice(0, resolved.k);
    const chosen = candidates[0]?.eligible ? candidates[0] : undefined;
    return {
      chosen,
      candidates,
      reason: rankingReason(chosen, ranked, resolved),
      options: resolved,
      space: this.space,
    };
  }

  /**
   * Teaches the registry from routes a person or a check confirmed: each task becomes an example
   * of the named capability, so later tasks like it route there. With `records` the learnt tasks
   * are kept in the store (the task's text and vector, in the registry's tenant-independent
   * collection) and come back at the next open, embedded again if the embedder changed; learning
   * the same task twice keeps one.
   *
   * @example
   * const decision = await ctx.route(ticket);
   * if (decision.chosen && resolvedByTheDesk) await registry.learn(decision.chosen, ticket);
   */
  async learn(name: string, ...tasks: readonly string[]): Promise<void> {
    const entry = this.#entries.get(name);
    if (!entry) {
      throw new InvalidArgumentError(
        `Cannot learn a route to '${name}': no capability of that name is registered.`,
      );
    }
    tasks.forEach((task) => checkText(task, `A task learnt for capability '${name}'`));
    const learnt = this.#learntKeys(name);
    const fresh = [...new Map(tasks.map((task) => [learntKey(name, task), task])).entries()].filter(
      ([key]) => !learnt.has(key),
    );
    const vectors = await embedChecked(
      this.embedder,
      fresh.map(([, task]) => task),
    );
    for (const [index, [key, task]] of fresh.entries()) {
      const vector = normalize(vectors[index]!);
      await this.#records?.putVectorRecord({
        ...SCOPE,
        key,
        space: this.space,
        vector,
        text: task,
        data: { textHash: hashText(task), learnt: true },
        createdAt: Date.now(),
      });
      this.#stored.set(key, { textHash: hashText(task), vector });
      this.#index.add(key, vector);
      this.#learntTexts.set(key, task);
      learnt.add(key);
      entry.keys.push(key);
    }
    if (fresh.length > 0) this.#changed();
  }

  /** The registered texts changed: the classifier is fitted again at the next rank. */
  #changed(): void {
    this.#classifierStale = true;
    this.#hasExamples = undefined;
    this.#pools.clear();
  }

  /** Each candidate's word alignment with the task (undefined without an aligner). */
  async #align(task: string, names: Iterable<string>): Promise<Map<string, number> | undefined> {
    if (this.#alignmentWeight === 0) return undefined;
    this.#aligner ??= Promise.resolve(this.embedder.wordAligner?.());
    const aligner = await this.#aligner;
    if (!aligner) return undefined;
    const words = aligner.words(task);
    const alignment = new Map<string, number>();
    for (const name of names) alignment.set(name, aligner.score(words, this.#poolOf(name, aligner)));
    return alignment;
  }

  /** A capability's words from all its texts (description, examples, learnt tasks), most recently used kept. */
  #poolOf(name: string, aligner: WordAligner): AlignedWords {
    let pool = this.#pools.get(name);
    if (pool) {
      this.#pools.delete(name); // set again below, as the most recently used
    } else {
      const entry = this.#entries.get(name)!;
      const texts = [capabilityText(entry.capability), ...entry.capability.examples];
      for (const key of entry.keys) {
        const learnt = this.#learntTexts.get(key);
        if (learnt !== undefined) texts.push(learnt);
      }
      pool = aligner.pool(texts.map((text) => aligner.words(text)));
      if (this.#pools.size >= POOLS_KEPT) this.#pools.delete(this.#pools.keys().next().value!);
    }
    this.#pools.set(name, pool);
    return pool;
  }

  /**
   * The classifier of the registered texts, fitted again if they changed since (undefined when it
   * is off, or the registry is over its `maxWork` or has fewer than two capabilities).
   */
  #currentClassifier(): CapabilityClassifier | undefined {
    if (!this.#classifierStale) return this.#classifier;
    this.#classifierStale = false;
    this.#classifier = undefined;
    const options = this.#classifierOptions;
    // Each capability has at least one text: over maxWork already, whatever the texts.
    if (!options || this.#entries.size ** 2 > options.maxWork) return undefined;
    const samples: { label: string; vector: Float32Array }[] = [];
    for (const [name, entry] of this.#entries) {
      for (const key of entry.keys) {
        const vector = this.#index.get(key);
        if (vector) samples.push({ label: name, vector });
      }
    }
    if (samples.length * this.#entries.size > options.maxWork) return undefined;
    this.#classifier = CapabilityClassifier.fit(samples, this.embedder.dimensions, options.temperature);
    return this.#classifier;
  }

  #learntKeys(name: string): Set<string> {
    let keys = this.#learnt.get(name);
    if (!keys) this.#learnt.set(name, (keys = new Set()));
    return keys;
  }

  /** Similarity per capability among the nearest vectors of the whole index (see {@link capabilitySimilarity}). */
  #searchAll(query: Float32Array, k: number, alsoScore: readonly string[] = []): Map<string, number> {
    const names = new Set<string>();
    // A capability has several vectors: ask for more hits than k so that k distinct names come back.
    let wanted = Math.min(this.#index.size, k * 4 + 8);
    for (;;) {
      names.clear();
      const hits = this.#index.search(query, wanted);
      for (const hit of hits) names.add(hit.key.slice(0, hit.key.indexOf(SEPARATOR)));
      if (names.size >= Math.min(k, this.#entries.size) || wanted >= this.#index.size) {
        for (const name of alsoScore) names.add(name);
        return this.#scoreSome(query, [...names]);
      }
      wanted = Math.min(this.#index.size, wanted * 2);
    }
  }

  /** Exact similarity for a few named capabilities. */
  #scoreSome(query: Float32Array, names: readonly string[]): Map<string, number> {
    const best = new Map<string, number>();
    for (const name of names) {
      const similarities: number[] = [];
      for (const key of this.#entries.get(name)!.keys) {
        const vector = this.#index.get(key);
        if (vector) similarities.push(dot(vector, 0, query, 0, vector.length));
      }
      best.set(name, capabilitySimilarity(similarities));
    }
    return best;
  }
}

/**
 * A capability's similarity to a task from the similarities of its texts (description, examples,
 * learnt tasks): the mean of the two highest, or the only one. One stray example cannot pull in
 * unrelated tasks on its own, as it does under the maximum; measured on the labelled requests in
 * bench/data (tuning half), the mean of two beat the maximum, the mean of three and the centroid.
 */
export function capabilitySimilarity(similarities: readonly number[]): number {
  if (similarities.length === 0) return 0;
  let first = -Infinity;
  let second = -Infinity;
  for (const value of similarities) {
    if (value > first) [first, second] = [value, first];
    else if (value > second) second = value;
  }
  return second === -Infinity ? first : (first + second) / 2;
}

/**
 * The rank options with their defaults: `minScore` from the embedder's calibration, the one for
 * capabilities with examples when `registry.examples` says most have some.
 */
export function resolveRankOptions(
  options: RankOptions,
  embedder: Pick<Embedder, 'calibrated'>,
  registry: { examples: boolean } = { examples: false },
): { k: number; minScore: number; costBias: number } {
  const calibrated = calibratedDefaults(embedder);
  const minScore = registry.examples
    ? (calibrated.minScoreWithExamples ?? calibrated.minScore)
    : calibrated.minScore;
  return {
    k: checkPositiveInteger(options.k ?? 5, 'route option k'),
    minScore: checkSimilarity(options.minScore ?? minScore, 'route option minScore'),
    costBias: checkUnitInterval(options.costBias ?? 0, 'route option costBias'),
  };
}

/**
 * How much a word alignment of 1 adds to a candidate's similarity when candidates are ordered
 * (beside the classifier's 0.3): the largest weight of the tuning half's plateau (1 to 3 within a
 * request or two of each other) that still routes the requests among desks known by one
 * line each; at 1.5 a generic word ("bought" → "shop") pulls "the battery I bought stopped working"
 * to the stores. See docs/decisions/0036-word-alignment-orders-the-shortlist.md.
 */
const DEFAULT_ALIGNMENT_WEIGHT = 1;

function checkWeight(weight: number): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
    throw new InvalidArgumentError(
      `The capability registry's alignment weight must be a finite number of at least 0, got ${String(weight)}.`,
    );
  return weight;
}

/** How many capabilities' pooled words the registry keeps for alignment (the most recently used). */
const POOLS_KEPT = 4096;

/** The `k` names the classifier finds likeliest. */
function likeliest(probabilities: ReadonlyMap<string, number>, k: number): string[] {
  return [...probabilities]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name]) => name);
}

function score(
  found: readonly {
    entry: Entry;
    similarity: number;
    confidence: number | undefined;
    alignment: number | undefined;
  }[],
  options: { minScore: number; costBias: number; weight: number; alignmentWeight: number },
): RankedCandidate[] {
  const eligible = found.filter((item) => item.similarity >= options.minScore);
  const cheapest = Math.min(...eligible.map((item) => item.entry.capability.cost));
  const span = 1 + options.weight + options.alignmentWeight - options.minScore;
  const ranked = found.map(({ entry, similarity, confidence, alignment }): RankedCandidate => {
    const { name, kind, cost } = entry.capability;
    const isEligible = similarity >= options.minScore;
    let value = 0;
    if (isEligible) {
      const match =
        similarity + options.weight * (confidence ?? 0) + options.alignmentWeight * (alignment ?? 0);
      const relevance = span <= 0 ? 1 : Math.min(1, (match - options.minScore) / span);
      const thrift = cost === 0 ? 1 : cheapest / cost;
      value = (1 - options.costBias) * relevance + options.costBias * thrift;
    }
    return {
      name,
      kind,
      similarity: roundScore(similarity),
      ...(confidence === undefined ? {} : { confidence: roundScore(confidence) }),
      ...(alignment === undefined ? {} : { alignment: roundScore(alignment) }),
      cost,
      score: roundScore(value),
      eligible: isEligible,
    };
  });
  return ranked.sort(
    (a, b) =>
      Number(b.eligible) - Number(a.eligible) ||
      b.score - a.score ||
      b.similarity - a.similarity ||
      a.cost - b.cost ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

function rankingReason(
  chosen: RankedCandidate | undefined,
  ranked: readonly RankedCandidate[],
  options: { minScore: number; costBias: number },
): string {
  const eligible = ranked.filter((candidate) => candidate.eligible);
  if (!chosen) {
    const best = ranked[0];
    return best
      ? `No candidate reached minScore ${options.minScore}: the nearest, ${best.name}, has similarity ${best.similarity}.`
      : 'No candidate was found.';
  }
  const others = eligible.length - 1;
  const why =
    options.costBias === 0
      ? 'the most similar'
      : options.costBias === 1
        ? 'the cheapest'
        : `the best blend of similarity and cost (costBias ${options.costBias})`;
  return (
    `${chosen.name} is ${why} of ${eligible.length} candidate(s) at or above minScore ${options.minScore}: ` +
    `similarity ${chosen.similarity}, cost ${chosen.cost}, score ${chosen.score}` +
    (others > 0
      ? `; next ${eligible[1]!.name} (similarity ${eligible[1]!.similarity}, cost ${eligible[1]!.cost}, score ${eligible[1]!.score}).`
      : '.')
  );
}

function checkCapability(capability: Capability): Entry['capability'] {
  if (typeof capability !== 'object' || capability === null)
    throw new InvalidArgumentError('A capability must be an object with a name and a description.');
  const name = checkText(capability.name, 'A capability name');
  if (name.includes(SEPARATOR) || name.includes(OLD_SEPARATOR))
    throw new InvalidArgumentError(
      `Capability name '${abbreviate(name)}' contains a control character (U+0000 or U+001F).`,
    );
  const description = checkText(capability.description, `The description of capability '${name}'`);
  const examples = capability.examples ?? [];
  examples.forEach((example, index) => checkText(example, `Example ${index + 1} of capability '${name}'`));
  const cost = capability.cost ?? 1;
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
    throw new InvalidArgumentError(
      `The cost of capability '${name}' must be a finite number of at least 0, got ${String(cost)}.`,
    );
  }
  return { name, description, examples: [...examples], cost, kind: capability.kind ?? 'agent' };
}

function capabilityText(capability: Entry['capability']): string {
  return `${capability.name.replace(/[._:-]+/g, ' ')}: ${capability.description}`;
}

/** The capability name a record key belongs to (the part before the separator). */
function nameOf(key: string): string {
  return key.slice(0, key.indexOf(SEPARATOR));
}

/** A learnt task's key: the name, `learnt`, and the task's hash (so learning it twice keeps one). */
function learntKey(name: string, task: string): string {
  return `${name}${SEPARATOR}learnt${SEPARATOR}${hashText(task)}`;
}

function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
