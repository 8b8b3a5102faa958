import { describe, expect, it } from 'vitest';
import { CapabilityClassifier } from '../../src/routing/capability-classifier.ts';
import { CapabilityRegistry } from '../../src/routing/capability-registry.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { WordVectorEmbedder } from '../../src/routing/word-vector-embedder.ts';

const desks = [
  {
    name: 'billing',
    description: 'Refunds, invoices, double charges and payment failures.',
    examples: ['I paid for the same thing two times', 'Where can I download my invoice?'],
  },
  {
    name: 'accounts',
    description: 'Password resets, login problems and locked accounts.',
    examples: ['I cannot log into my account', 'How do I reset my password?'],
  },
  {
    name: 'shipping',
    description: 'Delivery status, tracking numbers, late or lost parcels.',
    examples: ['Where is my parcel?', 'The courier never came'],
  },
];

describe("the registry's classifier", () => {
  it('is fitted deterministically and gives probabilities that sum to one, highest for the class of a sample', () => {
    const unit = (values: number[]) => {
      const length = Math.hypot(...values);
      return Float32Array.from(values, (value) => value / length);
    };
    const samples = [
      { label: 'a', vector: unit([1, 0.1, 0]) },
      { label: 'a', vector: unit([0.9, 0, 0.2]) },
      { label: 'b', vector: unit([0, 1, 0.1]) },
      { label: 'c', vector: unit([0.1, 0, 1]) },
    ];
    const first = CapabilityClassifier.fit(samples, 3, 0.5)!;
    const second = CapabilityClassifier.fit(samples, 3, 0.5)!;
    const probabilities = first.probabilities(unit([1, 0.2, 0.1]));
    expect([...probabilities.values()].reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 9);
    expect(Math.max(...probabilities.values())).toBe(probabilities.get('a'));
    expect([...second.probabilities(unit([1, 0.2, 0.1]))]).toEqual([...probabilities]);
    expect(CapabilityClassifier.fit(samples.slice(0, 2), 3, 0.5)).toBeUndefined();
  });

  it('gives candidates a confidence, follows registrations, removals and learnt tasks, and can be turned off', async () => {
    const embedder = new LexicalEmbedder();
    const registry = await CapabilityRegistry.open({ embedder, capabilities: desks, log: () => {} });
    const ranking = await registry.rank('my parcel is late', { k: 3 });
    expect(ranking.chosen!.name).toBe('shipping');
    expect(ranking.candidates.map((candidate) => typeof candidate.confidence)).toEqual(
      Array(3).fill('number'),
    );
    const total = ranking.candidates.reduce((sum, candidate) => sum + candidate.confidence!, 0);
    expect(total).toBeCloseTo(1, 5);

    registry.unregister('accounts');
    const without = await registry.rank('I cannot log in', { k: 3, minScore: -1 });
    expect(without.candidates.map((candidate) => candidate.name).sort()).toEqual(['billing', 'shipping']);
    expect(without.candidates.reduce((sum, candidate) => sum + candidate.confidence!, 0)).toBeCloseTo(1, 5);

    const before = (await registry.rank('a gift voucher', { k: 2, minScore: -1 })).candidates.find(
      (candidate) => candidate.name === 'billing',
    )!.confidence!;
    await registry.learn('billing', 'a gift voucher that was charged but never arrived');
    const after = (await registry.rank('a gift voucher', { k: 2, minScore: -1 })).candidates.find(
      (candidate) => candidate.name === 'billing',
    )!.confidence!;
    expect(after).toBeGreaterThan(before);

    const plain = await CapabilityRegistry.open({
      embedder,
      capabilities: desks,
      classifier: false,
      log: () => {},
    });
    const ranked = await plain.rank('my parcel is late', { k: 3 });
    expect(ranked.candidates.every((candidate) => candidate.confidence === undefined)).toBe(true);
    // Over its maxWork (texts × capabilities: 9 × 3 here), routing ranks by similarity alone.
    const large = await CapabilityRegistry.open({
      embedder,
      capabilities: desks,
      classifier: { maxWork: 26 },
      log: () => {},
    });
    const alone = await large.rank('my parcel is late', { k: 3 });
    expect(alone.candidates.every((candidate) => candidate.confidence === undefined)).toBe(true);
  });

  it('rejects a temperature that is not positive', async () => {
    await expect(
      CapabilityRegistry.open({ embedder: new LexicalEmbedder(), classifier: { temperature: 0 } }),
    ).rejects.toThrow(/temperature must be a number greater than 0/);
  });

  it('routes by the minScore for desks with examples when most declare some', async () => {
    const embedder = new WordVectorEmbedder();
    const described = await CapabilityRegistry.open({
      embedder,
      capabilities: desks.map(({ name, description }) => ({ name, description })),
      log: () => {},
    });
    expect(described.hasExamples).toBe(false);
    expect((await described.rank('my parcel is late')).options.minScore).toBe(0.2);
    const declared = await CapabilityRegistry.open({ embedder, capabilities: desks, log: () => {} });
    expect(declared.hasExamples).toBe(true);
    expect((await declared.rank('my parcel is late')).options.minScore).toBe(0.3);
    expect((await declared.rank('my parcel is late', { minScore: 0.1 })).options.minScore).toBe(0.1);
  });
});
