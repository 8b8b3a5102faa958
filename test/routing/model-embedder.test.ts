import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAI } from '@ai-sdk/openai';
import { afterEach, describe, expect, it } from 'vitest';
import { embedChecked } from '../../src/routing/embedder.ts';
import { embedderFromModel } from '../../src/routing/model-embedder.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A local server speaking OpenAI's /v1/embeddings: each text becomes [length, vowels, 1, …] padded to `dimensions`. */
async function embeddingsServer(
  dimensions: number,
): Promise<{ url: string; requests: { input: string[]; dimensions?: number }[] }> {
  const requests: { input: string[]; dimensions?: number }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const parsed = JSON.parse(body) as { input: string[]; dimensions?: number };
      requests.push(parsed);
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          object: 'list',
          data: parsed.input.map((text, index) => ({
            object: 'embedding',
            index,
            embedding: Array.from({ length: dimensions }, (_, i) =>
              i === 0 ? text.length : i === 1 ? (text.match(/[aeiou]/g) ?? []).length : 1,
            ),
          })),
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 4, total_tokens: 4 },
        }),
      );
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

describe('embedderFromModel', () => {
  it('embeds through an AI SDK embedding model', async () => {
    const { url, requests } = await embeddingsServer(8);
    const openai = createOpenAI({ baseURL: url, apiKey: 'test' });
    const embedder = embedderFromModel({
      model: openai.embedding('text-embedding-3-small'),
      dimensions: 8,
      requestDimensions: true,
    });
    expect(embedder.id).toBe('openai.embedding:text-embedding-3-small');
    const vectors = await embedChecked(embedder, ['refund', 'parcel']);
    expect(vectors.map((vector) => Array.from(vector.subarray(0, 3)))).toEqual([
      [6, 2, 1],
      [6, 2, 1],
    ]);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(requests).toEqual([
      {
        input: ['refund', 'parcel'],
        model: 'text-embedding-3-small',
        dimensions: 8,
        encoding_format: 'float',
      },
    ]);
  });

  it('says so when the model returns another number of dimensions than declared', async () => {
    const { url } = await embeddingsServer(12);
    const openai = createOpenAI({ baseURL: url, apiKey: 'test' });
    const embedder = embedderFromModel({ model: openai.embedding('text-embedding-3-small'), dimensions: 8 });
    await expect(embedChecked(embedder, ['refund'])).rejects.toThrow(
      /returned a 12-dimensional vector, but declares 8 dimensions. Set its dimensions to 12/,
    );
    expect(() => embedderFromModel({ model: openai.embedding('x'), dimensions: 0 })).toThrow(
      /positive whole number, got 0/,
    );
  });
});
