import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { replayHistories } from '../src/testing/index.ts';
import { fulfil } from './fixtures/golden-workflows.ts';
import { SEMANTICS_WORKFLOWS } from './fixtures/golden-semantics-workflows.ts';

// Histories recorded by an earlier version of the code and exported with `baton export --format`,
// kept read-only: a completed run (JSON) and a run in flight, awaiting approval (NDJSON).
const GOLDEN = fileURLToPath(new URL('./fixtures/golden-histories', import.meta.url));

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'baton-golden-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('golden histories', () => {
  it('replay on the code that wrote them, and are intact', async () => {
    const report = await replayHistories(GOLDEN, [fulfil]);
    expect(report.ok, report.message).toBe(true);
    expect(report.results.map((result) => [result.file, result.report?.recorded, result.report?.ok])).toEqual(
      [
        ['fulfil-awaiting-approval.ndjson', 'unfinished', true],
        ['fulfil-charged.json', 'completed', true],
      ],
    );
    const document = JSON.parse(await readFile(join(GOLDEN, 'fulfil-charged.json'), 'utf8')) as {
      events: Parameters<typeof verifyChain>[0];
    };
    expect(verifyChain(document.events).ok).toBe(true);
  });

  it('catch a change that would break runs in flight, naming the file and the divergence', async () => {
    // A new step before the approval, not guarded by ctx.patched: both histories break at op 2.
    const changed = defineWorkflow('fulfil', async (ctx, input: { order: string }) => {
      await ctx.step('reserve', () => ({ order: input.order, reserved: true }));
      await ctx.step('fraud-check', () => true);
      await ctx.waitFor('approve');
      return { order: input.order, status: 'charged' };
    });
    const report = await replayHistories(GOLDEN, [changed]);
    expect(report.ok).toBe(false);
    expect(report.results.map((result) => result.report?.divergence?.kind)).toEqual(['mismatch', 'mismatch']);
    const lines = report.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^fulfil-awaiting-approval\.ndjson: Run run_\w+ no longer matches its history at seq \d+: the history holds waitFor\('approve'\), but the workflow code now asks for step 'fraud-check'/,
    );
    expect(lines[1]).toMatch(/^fulfil-charged\.json: /);

    // The same change behind ctx.patched keeps both histories replaying.
    const guarded = defineWorkflow('fulfil', async (ctx, input: { order: string }) => {
      const reserved = await ctx.step('reserve', () => ({ order: input.order, reserved: true }));
      if (ctx.patched('fraud-check')) await ctx.step('fraud-check', () => true);
      const approval = await ctx.waitFor<{ approved: boolean }>('approve');
      if (!approval.approved) return { order: reserved.order, status: 'rejected' };
      await ctx.sleep('1h', 'cool-off');
      await ctx.step('charge', () => ({ charged: 4200 }));
      return { order: reserved.order, status: 'charged' };
    });
    expect((await replayHistories(GOLDEN, [guarded])).ok).toBe(true);
  });

  it('report what cannot be replayed: a missing workflow, a newer format, an empty folder', async () => {
    const text = await readFile(join(GOLDEN, 'fulfil-charged.json'), 'utf8');
    await writeFile(join(scratch, 'newer.json'), text.replace('"format": 1', '"format": 7'));
    await writeFile(
      join(scratch, 'other.json'),
      text.replaceAll('"workflow": "fulfil"', '"workflow": "refund"'),
    );
    await writeFile(join(scratch, 'broken.json'), '{"events": "nope"}');
    const report = await replayHistories(scratch, [fulfil]);
    expect(report.ok).toBe(false);
    expect(report.results.map((result) => [result.file, result.problem])).toEqual([
      ['broken.json', expect.stringContaining("is not a run's history: it holds no events")],
      [
        'newer.json',
        expect.stringContaining('was written in journal format 7, newer than this Baton reads (format 1)'),
      ],
      ['other.json', "no workflow named 'refund' was given (given: fulfil)"],
    ]);
    const empty = await mkdtemp(join(tmpdir(), 'baton-golden-empty-'));
    try {
      const none = await replayHistories(empty, [fulfil]);
      expect(none).toMatchObject({
        ok: false,
        results: [],
        message: `No histories (*.json, *.ndjson) in ${empty}.`,
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('golden histories of the engine semantics (published values, patches, continue-as-new, agents)', () => {
  it('replay on the code that wrote them, each new event type included, and are intact', async () => {
    const folder = join(GOLDEN, 'semantics');
    const report = await replayHistories(folder, SEMANTICS_WORKFLOWS);
    expect(report.ok, report.message).toBe(true);
    expect(report.results.map((result) => [result.file, result.report?.recorded])).toEqual([
      ['forecast-stopped-on-tool.json', 'completed'],
      ['progress-published-and-patched.json', 'completed'],
      ['refunds-tripwire.json', 'failed'],
      ['rounds-continued.json', 'continued'],
      ['rounds-successor-completed.json', 'completed'],
    ]);
    for (const result of report.results) {
      const document = JSON.parse(await readFile(join(folder, result.file), 'utf8')) as {
        events: Parameters<typeof verifyChain>[0];
      };
      expect(verifyChain(document.events).ok).toBe(true);
    }
  });

  it('catch code that no longer continues as new, or calls patched once per call again', async () => {
    const folder = join(GOLDEN, 'semantics');
    const returnsInstead = defineWorkflow('rounds', async (ctx, input: { round: number; rounds: number }) => {
      await ctx.step('round', () => input.round);
      return { rounds: input.rounds };
    });
    const report = await replayHistories(folder, [
      ...SEMANTICS_WORKFLOWS.filter((w) => w.name !== 'rounds'),
      returnsInstead,
    ]);
    expect(report.ok).toBe(false);
    expect(report.message).toMatch(
      /^rounds-continued\.json: Run run_\w+ continued as a new run at seq 3, but the workflow code now returns/,
    );
  });
});
