import { describe, expect, it } from 'vitest';
import { capabilitySimilarity } from './capability-registry.ts';

describe('capabilitySimilarity', () => {
  it('is the mean of the two best-matching texts, so one stray example cannot carry a capability', () => {
    expect(capabilitySimilarity([0.2, 0.9, 0.1])).toBeCloseTo(0.55);
    expect(capabilitySimilarity([0.6, 0.5, 0.55])).toBeCloseTo(0.575);
    // A capability whose texts agree beats one with a single close example.
    expect(capabilitySimilarity([0.6, 0.55])).toBeGreaterThan(capabilitySimilarity([0.9, 0.1]));
  });

  it('is the only similarity of a capability with one text, and 0 with none', () => {
    expect(capabilitySimilarity([0.42])).toBe(0.42);
    expect(capabilitySimilarity([-0.3])).toBe(-0.3);
    expect(capabilitySimilarity([])).toBe(0);
  });
});
