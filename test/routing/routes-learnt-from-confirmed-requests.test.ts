import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CapabilityRegistry } from '../../src/routing/capability-registry.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { WordVectorEmbedder } from '../../src/routing/word-vector-embedder.ts';
import { tempStore } from '../support/harness.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';

const desks = (
  JSON.parse(readFileSync(new URL('../../bench/data/support-desks.json', import.meta.url), 'utf8')) as {
    desks: { name: string; description: string }[];
  }
).desks;

const TICKET = 'I spilled coffee on my laptop, will the cover pay for it?';
const CONFIRMED = 'I spilled water on my tablet, does my cover pay for it?';
const SCOPE = { collection: 'capability', tenant: '*', partition: '' };

const disposers = cleanupsAfterEach();

describe('routes learnt from confirmed requests', () => {
  it('routes a request like a confirmed one to its desk, and keeps what it learnt across a restart', async () => {
    const { store, dispose } = await tempStore();
    disposers.push(dispose);
    const embedder = new WordVectorEmbedder();
    const open = () =>
      CapabilityRegistry.open({
        embedder,
        records: store.vectorRecords,
        capabilities: desks,
        log: () => {},
      });

    const registry = await open();
    const before = await registry.rank(TICKET, { k: 3 });
    expect(before.candidates[0]!.name).not.toBe('insurance');

    await registry.learn('insurance', CONFIRMED);
    await registry.learn('insurance', CONFIRMED); // learning it again keeps one
    const after = await registry.rank(TICKET, { k: 3 });
    expect(after.chosen?.name).toBe('insurance');

    const learnt = (await store.vectorRecords.scanVectorRecords(SCOPE, { limit: 100 })).filter(
      (record) => (record.data as { learnt?: boolean }).learnt === true,
    );
    expect(learnt.map((record) => record.text)).toEqual([CONFIRMED]);

    // Another registry on the same store (a restart) routes the same way without being taught again.
    const reopened = await open();
    expect((await reopened.rank(TICKET, { k: 3 })).chosen?.name).toBe('insurance');
    expect(reopened.get('insurance')!.examples ?? []).toEqual([]);
  });

  it('embeds learnt requests again when the embedder changes', async () => {
    const { store, dispose } = await tempStore();
    disposers.push(dispose);
    const first = await CapabilityRegistry.open({
      embedder: new WordVectorEmbedder(),
      records: store.vectorRecords,
      capabilities: desks,
      log: () => {},
    });
    await first.learn('insurance', CONFIRMED);
    const lexical = new LexicalEmbedder();
    const second = await CapabilityRegistry.open({
      embedder: lexical,
      records: store.vectorRecords,
      capabilities: desks,
      log: () => {},
    });
    expect(second.notices.join(' ')).toContain('re-embedding');
    const learnt = (await store.vectorRecords.scanVectorRecords(SCOPE, { limit: 100 })).filter(
      (record) => (record.data as { learnt?: boolean }).learnt === true,
    );
    expect(learnt.map((record) => [record.text, record.space])).toEqual([[CONFIRMED, second.space]]);
    // The learnt request itself now matches insurance best, in the new space too.
    expect((await second.rank(CONFIRMED, { k: 1 })).candidates[0]!.name).toBe('insurance');
  });

  it('refuses to learn a route to a capability that is not registered', async () => {
    const registry = await CapabilityRegistry.open({
      embedder: new WordVectorEmbedder(),
      capabilities: desks.slice(0, 3),
      log: () => {},
    });
    await expect(registry.learn('person:support-lead', TICKET)).rejects.toThrow(/no capability of that name/);
  });
});
