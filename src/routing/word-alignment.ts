import { lookUp, unknownWordVector, wordFrequency, words } from './word-lookup.ts';
import { dot, normalize } from './vector-index.ts';
import type { WordVectors } from './word-vectors.ts';

/**
 * Scores a task against a capability's texts word by word, where an averaged sentence vector blurs
 * them: each content word of the task finds its most similar word among all the capability's texts
 * (description, declared examples, learnt tasks), and the score is the mean of those best cosines,
 * each word weighted by how rare it is (a BERTScore-like recall over static word vectors). "The
 * battery stopped working" meets "broken" and "defective" in the warranty desk's words even when
 * no one of its texts is close as a whole.
 *
 * Given by an embedder built on word vectors ({@link Embedder.wordAligner}); the capability registry
 * adds `weight × alignment` to the similarity of each shortlisted candidate when it orders them.
 * Measured on the labelled requests in bench/data (tuning half only), see
 * docs/decisions/0036-word-alignment-orders-the-shortlist.md.
 */
export interface WordAligner {
  /** A text's content words, ready to be matched or pooled. */
  words(text: string): AlignedWords;
  /** The words of several texts as one pool (each distinct word once). */
  pool(texts: readonly AlignedWords[]): AlignedWords;
  /** The weighted mean, over the task's words, of each one's best cosine in `pool`; 0 with no words. */
  score(task: AlignedWords, pool: AlignedWords): number;
}

/** A text's content words, as the aligner matches them. */
export interface AlignedWords {
  /** Each word's key: its row in the word table (`#row`), or the word itself when the table lacks it. */
  readonly tokens: readonly string[];
  /** Each word's weight, a / (a + its corpus frequency): rare words weigh most. */
  readonly weights: Float32Array;
  /** The words' unit vectors, one row of the table's dimensions after another. */
  readonly vectors: Float32Array;
}

/**
 * SIF's smoothing for the task's words: a word of corpus frequency p weighs a / (a + p). Chosen on
 * the tuning half (1e-2 did alike; 1e-4, the embedder's, was worse: rare product names weigh most).
 */
const SMOOTHING = 1e-3;

/**
 * Words that carry no intent of their own. Their SIF weights are small but not nil, and each finds
 * itself in almost every pool, which would pull every score towards 1 alike.
 */
const FUNCTION_WORDS = new Set(
  (
    'a about after all also am an and any are as at be been before being but by can could did do does for from ' +
    'get got had has have how i if im in into is it its ive just me my no not of on one or our out over please ' +
    'should so some than that the their them then there these they this to up us was we what when where which ' +
    'who why will with would you your'
  ).split(' '),
);

/** The {@link WordAligner} of a word-vector table. */
export function wordAligner(table: WordVectors): WordAligner {
  const dimensions = table.dimensions;
  return {
    words(text) {
      const tokens: string[] = [];
      const weights: number[] = [];
      const vectors: Float32Array[] = [];
      for (const token of words(text)) {
        if (token.length < 2 || FUNCTION_WORDS.has(token)) continue;
        for (const part of lookUp(table, token)) {
          const vector = new Float32Array(dimensions);
          if (typeof part === 'number') {
            table.read(part, vector);
            const frequency = wordFrequency(table, part);
            weights.push(SMOOTHING / (SMOOTHING + frequency));
          } else {
            // Unknown to the table: rare, and alike only to itself.
            unknownWordVector(part, 1, vector);
            weights.push(1);
          }
          tokens.push(typeof part === 'number' ? `#${part}` : part);
          vectors.push(normalize(vector));
        }
      }
      return packed(tokens, weights, vectors, dimensions);
    },
    pool(texts) {
      const seen = new Set<string>();
      const tokens: string[] = [];
      const weights: number[] = [];
      const vectors: Float32Array[] = [];
      for (const text of texts) {
        text.tokens.forEach((token, at) => {
          if (seen.has(token)) return;
          seen.add(token);
          tokens.push(token);
          weights.push(text.weights[at]!);
          vectors.push(text.vectors.subarray(at * dimensions, (at + 1) * dimensions));
        });
      }
      return packed(tokens, weights, vectors, dimensions);
    },
    score(task, pool) {
      const count = pool.tokens.length;
      if (task.tokens.length === 0 || count === 0) return 0;
      let sum = 0;
      let total = 0;
      for (let word = 0; word < task.tokens.length; word++) {
        const offset = word * dimensions;
        let best = -1;
        for (let other = 0; other < count; other++) {
          const similarity = dot(task.vectors, offset, pool.vectors, other * dimensions, dimensions);
          if (similarity > best) best = similarity;
        }
        sum += task.weights[word]! * best;
        total += task.weights[word]!;
      }
      return sum / total;
    },
  };
}

function packed(
  tokens: string[],
  weights: number[],
  vectors: readonly Float32Array[],
  dimensions: number,
): AlignedWords {
  const rows = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, at) => rows.set(vector, at * dimensions));
  return { tokens, weights: Float32Array.from(weights), vectors: rows };
}
