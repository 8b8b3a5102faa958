import { describe, expect, it } from 'vitest';
import { CapabilityRegistry } from '../../src/routing/capability-registry.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { WordVectorEmbedder } from '../../src/routing/word-vector-embedder.ts';
import { readQualitySets } from '../../bench/routing-quality.ts';

const desks = [
  {
    name: 'warranty',
    description: 'Claims for broken or defective products, repairs and replacements under warranty.',
    examples: ['My blender broke after two weeks', 'The screen of my tablet is faulty'],
  },
  {
    name: 'store-locations',
    description: 'Shop opening hours, store addresses, click and collect pick-up, parking at stores.',
    examples: ['When does the shop in the city centre open?', 'Is there parking at your store?'],
  },
  {
    name: 'billing',
    description: 'Refunds, invoices, double charges, wrong amounts charged and payment failures.',
    examples: ['I paid for the same thing two times', 'Where can I download my invoice?'],
  },
];

describe('word alignment in capability routing', () => {
  it('scores a word against its nearest word in a pool: itself 1, a near word above a far one', async () => {
    const aligner = await new WordVectorEmbedder().wordAligner();
    const pool = (text: string) => aligner.pool([aligner.words(text)]);
    expect(aligner.score(aligner.words('defective'), pool('defective invoices'))).toBeCloseTo(1, 5);
    const broken = aligner.words('broken');
    expect(aligner.score(broken, pool('defective'))).toBeGreaterThan(aligner.score(broken, pool('invoice')));
    // Function words do not count; a text of nothing else aligns with nothing.
    expect(aligner.words('the and of it').tokens).toEqual([]);
    expect(aligner.score(aligner.words('the and of it'), pool('broken'))).toBe(0);
    // A word the table lacks matches only itself.
    expect(aligner.score(aligner.words('zorblaxian'), pool('zorblaxian refunds'))).toBeCloseTo(1, 5);
    expect(aligner.score(aligner.words('zorblaxian'), pool('quibbletronic'))).toBeLessThan(0.5);
  });

  it('gives each candidate its alignment, orders by it, and follows learnt tasks', async () => {
    const registry = await CapabilityRegistry.open({
      embedder: new WordVectorEmbedder(),
      capabilities: desks,
      log: () => {},
    });
    const ranking = await registry.rank('the battery I bought stopped working after a month', {
      k: 3,
      minScore: 0,
    });
    expect(ranking.chosen!.name).toBe('warranty');
    for (const candidate of ranking.candidates) expect(candidate.alignment).toEqual(expect.any(Number));

    const before = await registry.rank('the kettle leaks water from the bottom', { k: 3, minScore: 0 });
    const alignment = (ranking: typeof before) =>
      ranking.candidates.find((candidate) => candidate.name === 'warranty')!.alignment!;
    await registry.learn('warranty', 'My kettle is leaking water everywhere');
    const after = await registry.rank('the kettle leaks water from the bottom', { k: 3, minScore: 0 });
    expect(alignment(after)).toBeGreaterThan(alignment(before));
  });

  it('is off when asked, and absent for an embedder without words', async () => {
    const off = await CapabilityRegistry.open({
      embedder: new WordVectorEmbedder(),
      capabilities: desks,
      log: () => {},
      alignment: false,
    });
    const lexical = await CapabilityRegistry.open({
      embedder: new LexicalEmbedder(),
      capabilities: desks,
      log: () => {},
    });
    for (const registry of [off, lexical]) {
      const ranking = await registry.rank('I was charged twice, please refund', { k: 3, minScore: 0 });
      expect(ranking.chosen!.name).toBe('billing');
      for (const candidate of ranking.candidates) expect(candidate).not.toHaveProperty('alignment');
    }
    await expect(
      CapabilityRegistry.open({ embedder: new LexicalEmbedder(), alignment: { weight: -1 }, log: () => {} }),
    ).rejects.toThrow(/alignment weight must be a finite number of at least 0, got -1/);
  });

  it("routes the issue's requests among the 30 desks that declare examples", async () => {
    const sets = readQualitySets();
    const registry = await CapabilityRegistry.open({
      embedder: new WordVectorEmbedder(),
      capabilities: sets.desks.map((desk) => ({ ...desk, examples: sets.examples[desk.name] ?? [] })),
      log: () => {},
    });
    const chosen = async (task: string) => (await registry.rank(task, { k: 3 })).chosen?.name;
    expect(await chosen('I was charged twice for my order, please refund')).toBe('billing');
    expect(await chosen('I forgot my password and cannot log in')).toBe('accounts');
    expect(await chosen('the battery I bought stopped working after a month')).toBe('warranty');
  });
});
