import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { START_EVENTS } from '../src/engine/engine-flags.ts';
import { defineWorkflow as defineEngineWorkflow } from '../src/engine/workflow.ts';
import { parseHistory } from '../src/explain/history-document.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { replayHistories } from '../src/testing/index.ts';
import { defineWorkflow } from './fixtures/start-events-workflows.ts';

// A history recorded with engine flag 3 and start events on (`agents: { startEvents: true }`), kept
// read-only: an agent run whose model calls and tool call journaled their starts.
const GOLDEN = fileURLToPath(new URL('./fixtures/golden-histories-start-events', import.meta.url));

describe('golden histories with start events', () => {
  it('replay on the code that wrote them, and are intact', async () => {
    const report = await replayHistories(GOLDEN, [defineWorkflow()]);
    expect(report.ok, report.message).toBe(true);
    expect(report.results.map((result) => [result.file, result.report?.recorded, result.report?.ok])).toEqual(
      [['define-with-start-events.json', 'completed', true]],
    );
    const events = parseHistory(
      await readFile(join(GOLDEN, 'define-with-start-events.json'), 'utf8'),
      'define-with-start-events.json',
    );
    expect(verifyChain(events).ok).toBe(true);
    expect((events[0]!.payload as { flags: number[] }).flags).toContain(START_EVENTS);
    expect(events.map((event) => event.type)).toEqual([
      'run.started',
      'agent.started',
      'llm.started',
      'llm.called',
      'tool.requested',
      'tool.started',
      'tool.called',
      'llm.started',
      'llm.called',
      'agent.completed',
      'run.completed',
    ]);
  });

  it('catch a change to the workflow, naming the divergence', async () => {
    // A step before the agent: the history holds the agent's op where the code now asks for the step.
    const changed = defineEngineWorkflow('define', async (ctx) => ctx.step('prepare', () => 'ready'));
    const report = await replayHistories(GOLDEN, [changed]);
    expect(report.ok).toBe(false);
    expect(report.message).toContain("the workflow code now asks for step 'prepare'");
  });
});
