import type { WordVectors } from './word-vectors.ts';

// How texts are read into a word-vector table's words, shared by the embedder and word alignment.

/** Lower-case words as the word table spells them: "can't" → can, not; "it's" → it. */
export function* words(text: string): Generator<string> {
  const found =
    text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[’‘]/g, "'")
      .match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*/gu) ?? [];
  for (const token of found) {
    if (token.endsWith("n't")) {
      yield token === "can't" ? 'can' : token === "won't" ? 'will' : token.slice(0, -3);
      yield 'not';
    } else if (token.includes("'")) {
      yield token.slice(0, token.indexOf("'"));
    } else {
      yield token;
    }
  }
}

/** How many words the vectors' training corpus had (GloVe 6B: 400,000), for Zipf frequencies from ranks. */
const CORPUS_VOCABULARY = 400_000;
const HARMONIC = Math.log(CORPUS_VOCABULARY) + 0.5772;

/** A table word's corpus frequency, by Zipf's law from its frequency rank. */
export function wordFrequency(table: WordVectors, row: number): number {
  return 1 / (table.ranks[row]! * HARMONIC);
}

/**
 * The table's rows for a word: itself; else its parts ("two-factor"); else its stem ("webhooks" →
 * "webhook", "refunded" → "refund"); else the word itself, unknown (a string).
 */
export function lookUp(table: WordVectors, token: string): (number | string)[] {
  const row = table.rows.get(token);
  if (row !== undefined) return [row];
  if (token.includes('-')) return token.split('-').flatMap((part) => lookUp(table, part));
  for (const stem of stems(token)) {
    const found = table.rows.get(stem);
    if (found !== undefined) return [found];
  }
  return [token];
}

/** Plausible stems of an inflected English word, most likely first. */
function stems(word: string): string[] {
  const found: string[] = [];
  if (word.length <= 3 || /\d/.test(word)) return found;
  if (word.endsWith('ies')) found.push(`${word.slice(0, -3)}y`);
  if (word.endsWith('es')) found.push(word.slice(0, -2));
  if (word.endsWith('s')) found.push(word.slice(0, -1));
  if (word.endsWith('ed')) found.push(word.slice(0, -2), word.slice(0, -1));
  if (word.endsWith('ing')) found.push(word.slice(0, -3), `${word.slice(0, -3)}e`);
  return found;
}

/** A deterministic pseudo-random vector of length `length` for a word (xorshift seeded by FNV-1a). */
export function unknownWordVector(word: string, length: number, out: Float32Array): Float32Array {
  let state = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) state = Math.imul(state ^ word.charCodeAt(i), 0x01000193);
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (state >>> 0) / 2 ** 32 - 0.5;
  }
  const scale = length / (norm(out) || 1);
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
}

export function norm(vector: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}
