import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/context-layers.ts';
import type { RouteDecision } from '../../src/routing/route-by-capability.ts';
import { harness, harnessesClosedAfterEach } from '../support/harness.ts';

const desks = (
  JSON.parse(readFileSync(new URL('../../bench/data/support-desks.json', import.meta.url), 'utf8')) as {
    desks: { name: string; description: string }[];
  }
).desks.slice(0, 20);

const { open } = harnessesClosedAfterEach();

// The public workflow's ctx has route and memory: no casts, no context type to spell out.
const triage = workflow('triage', async (ctx, input: { tickets: string[] }) => {
  const decisions: RouteDecision[] = [];
  for (const ticket of input.tickets) decisions.push(await ctx.route(ticket, { k: 3 }));
  return decisions;
});

describe('routing with the defaults among twenty support desks', () => {
  it('routes ordinary requests to their desk, and a request no desk fits to the configured fallback', async () => {
    const h = await harness({
      workflows: [triage],
      routing: { capabilities: desks, defaults: { fallback: 'person:support-lead' } },
    });
    open.push(h);
    const tickets = [
      'I was charged twice for my order, please refund',
      'I forgot my password and cannot log in',
      'the battery I bought stopped working after a month',
      'What is the weather going to be like in Paris tomorrow?',
    ];
    const run = await h.baton.start(triage, { tickets });
    const [billing, accounts, warranty, weather] = await run.result();

    expect(billing!.chosen).toBe('billing');
    expect(accounts!.chosen).toBe('accounts');
    expect(warranty!.chosen).toBe('warranty');
    expect(weather).toMatchObject({ chosen: 'person:support-lead', fallback: true });

    const decided = (await run.history())
      .filter((event) => event.type === 'route.decided')
      .map((event) => event.payload);
    expect(decided.map((payload) => payload.chosen)).toEqual([
      'billing',
      'accounts',
      'warranty',
      'person:support-lead',
    ]);
    expect(decided[3]).toMatchObject({ fallback: true, space: 'baton-words-v2/356' });
    expect(decided[3]!.reason).toContain('falling back to person:support-lead');
    // The calibrated "no fit" threshold of the default embedder, journaled with the decision.
    expect(decided[0]!.options!.minScore).toBe(0.2);
  });

  it('routes six ordinary requests of the issue to their desk among twenty described in one line each', async () => {
    const h = await harness({
      workflows: [triage],
      routing: { capabilities: desks, defaults: { fallback: 'person:support-lead' } },
    });
    open.push(h);
    const expected: [string, string][] = [
      ['I was charged twice for my order, please refund', 'billing'],
      ['I forgot my password and cannot log in', 'accounts'],
      ['the battery I bought stopped working after a month', 'warranty'],
      ['Where is my parcel? The tracking number has not changed for a week', 'shipping'],
      ['I want to send back the shoes, they are the wrong size', 'returns'],
      ['How do I cancel my membership before it renews?', 'subscriptions'],
    ];
    const run = await h.baton.start(triage, { tickets: expected.map(([ticket]) => ticket) });
    const decisions = await run.result();
    expect(decisions.map((decision) => decision.chosen)).toEqual(expected.map(([, desk]) => desk));
    expect(decisions.every((decision) => !decision.fallback)).toBe(true);
    // The registry's classifier (fitted on the twenty descriptions) gives each candidate a
    // confidence, journaled with its similarity; the chosen desk is the likeliest.
    for (const decision of decisions) {
      const [first, ...others] = decision.candidates;
      expect(first!.confidence).toBeGreaterThan(Math.max(...others.map((other) => other.confidence!)));
    }
    const decided = (await run.history()).filter((event) => event.type === 'route.decided');
    expect(decided[0]!.payload.candidates[0]).toMatchObject({
      name: 'billing',
      confidence: expect.any(Number),
      alignment: expect.any(Number),
    });
  });

  it('takes the word alignment option in Baton.open: turned off, no candidate is aligned', async () => {
    const h = await harness({
      workflows: [triage],
      routing: { capabilities: desks, alignment: false },
    });
    open.push(h);
    const run = await h.baton.start(triage, { tickets: ['I forgot my password and cannot log in'] });
    const [decision] = await run.result();
    expect(decision!.chosen).toBe('accounts');
    expect(decision!.candidates.every((candidate) => candidate.alignment === undefined)).toBe(true);
    const decided = (await run.history()).filter((event) => event.type === 'route.decided');
    expect(decided[0]!.payload.candidates.every((candidate) => candidate.alignment === undefined)).toBe(true);
  });

  it('says how to set routing up when a workflow routes without it', async () => {
    const h = await harness({ workflows: [triage] });
    open.push(h);
    const run = await h.baton.start(triage, { tickets: ['refund me'] });
    await expect(run.result()).rejects.toThrow(/Baton.open\(\{ routing/);
  });

  it('keeps capability vectors in the store: a second Baton on it embeds nothing again', async () => {
    const first = await harness({ workflows: [triage], routing: { capabilities: desks } });
    open.push(first);
    const stored = await first.store.vectorRecords!.scanVectorRecords(
      { collection: 'capability', tenant: '*', partition: '' },
      { limit: 100 },
    );
    expect(stored).toHaveLength(20);
    const second = await harness({
      workflows: [triage],
      store: first.store,
      routing: { capabilities: desks },
    });
    open.push(second);
    const again = await first.store.vectorRecords!.scanVectorRecords(
      { collection: 'capability', tenant: '*', partition: '' },
      { limit: 100 },
    );
    expect(again.map((record) => record.id)).toEqual(stored.map((record) => record.id));
    expect(second.baton.routing!.size).toBe(20);
  });
});
