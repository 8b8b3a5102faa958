import { z } from 'zod';
import { tool } from '../../src/agents/tool.ts';

/** The read-only `docs.lookup` tool of the agent scenarios: answers `{ word, meaning: meaning(word) }`. */
export function docsLookup(meaning: (word: string) => string) {
  return tool({
    name: 'docs.lookup',
    description: 'Looks a word up',
    input: z.object({ word: z.string() }),
    effect: 'read',
    execute: async ({ word }) => ({ word, meaning: meaning(word) }),
  });
}

/** The irreversible `docs.delete` tool of the agent scenarios: answers 'deleted'. */
export function docsDelete() {
  return tool({
    name: 'docs.delete',
    description: 'Deletes a page',
    input: z.object({ word: z.string() }),
    effect: 'irreversible',
    execute: async () => 'deleted',
  });
}
