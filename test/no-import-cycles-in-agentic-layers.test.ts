import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

// Shared types live in types modules (model-types.ts, agent-scope.ts, tool-call-types.ts,
// graph-types.ts, machine-types.ts, plan-types.ts), so no module of the agentic layers imports one
// that imports it back, type imports included (docs/decisions/0019).
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const LAYERS = ['agents', 'patterns', 'planning'];

describe('the agentic layers', () => {
  it('have no import cycle', async () => {
    const graph = await madge(
      LAYERS.map((layer) => `${SRC}${layer}`),
      { fileExtensions: ['ts'], baseDir: SRC },
    );
    const cycles = graph
      .circular()
      .filter((cycle) => cycle.some((file) => LAYERS.some((layer) => file.startsWith(`${layer}/`))));
    expect(cycles).toEqual([]);
  });
});
