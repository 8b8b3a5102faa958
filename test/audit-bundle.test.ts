import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidBundleError } from '../src/access/access-errors.ts';
import { exportBundle, verifyBundle, type AuditBundle } from '../src/access/audit-bundle.ts';
import { signCheckpoint } from '../src/access/checkpoint.ts';
import { SigningKey } from '../src/access/signing-key.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { hashEvent } from '../src/journal/hash-chain.ts';
import { harness, tempStore, until } from './support/harness.ts';

const greet = defineWorkflow('greet', async (ctx, input: { name: string }) => {
  const text = await ctx.step('compose', () => `Hello, ${input.name}`);
  await ctx.step('send', () => ({ sent: true }));
  return text;
});

/** Runs one workflow on a file store with signing, exports its bundle to a file, and deletes the database. */
async function exportedBundle(
  key: SigningKey,
): Promise<{ file: string; runId: string; cleanup: () => Promise<void> }> {
  const temp = await tempStore();
  const h = await harness({ workflows: [greet], store: temp.store, signing: { key } });
  const run = await h.baton.start(greet, { name: 'Ada' }, { as: 'user:alice', tenant: 'acme' });
  await run.result();
  await until(
    async () => (await temp.store.checkpoints.listCheckpoints(run.runId)).length > 0,
    'a checkpoint',
  );
  await h.baton.signer!.flush();
  const bundle = await exportBundle(temp.store, run.runId, { publicKey: key, tenant: 'acme' });
  await h.close();
  const file = join(temp.directory, 'run.bundle.json');
  await writeFile(file, JSON.stringify(bundle, null, 2));
  await temp.store.close();
  await rm(temp.path);
  return { file, runId: run.runId, cleanup: temp.dispose };
}

describe('audit bundles', () => {
  it('verify offline, with no database, against the trusted key', async () => {
    const key = SigningKey.generate();
    const { file, runId, cleanup } = await exportedBundle(key);
    try {
      const bundle = JSON.parse(await readFile(file, 'utf8')) as AuditBundle;
      expect(bundle).toMatchObject({
        format: 'baton.audit-bundle/1',
        run: { runId, tenant: 'acme', status: 'completed' },
      });
      expect(bundle.publicKey).toEqual(key.publicJwk());
      const report = verifyBundle(bundle, key.publicPem());
      expect(report).toMatchObject({
        ok: true,
        trusted: true,
        keyId: key.keyId,
        events: bundle.events.length,
        signedSeq: bundle.events.length,
      });
      // Without a trusted key: intact, but that says nothing of who signed it.
      expect(verifyBundle(bundle)).toMatchObject({ ok: true, trusted: false });
    } finally {
      await cleanup();
    }
  });

  it('report a bundle signed with another key than the trusted one', async () => {
    const key = SigningKey.generate();
    const forger = SigningKey.generate();
    const { file, cleanup } = await exportedBundle(forger);
    try {
      const bundle = JSON.parse(await readFile(file, 'utf8')) as AuditBundle;
      const report = verifyBundle(bundle, key.publicJwk());
      expect(report.ok).toBe(false);
      expect(report.problem).toEqual({
        kind: 'key',
        seq: undefined,
        expected: key.keyId,
        found: forger.keyId,
      });
      expect(report.problems.some((problem) => problem.kind === 'key' && problem.seq !== undefined)).toBe(
        true,
      );
      expect(report.signedSeq).toBeUndefined();
    } finally {
      await cleanup();
    }
  });

  it('report an edited, truncated, re-chained or unsigned bundle', async () => {
    const key = SigningKey.generate();
    const { file, cleanup } = await exportedBundle(key);
    try {
      const original = await readFile(file, 'utf8');
      const load = (): AuditBundle => JSON.parse(original) as AuditBundle;

      const edited = load();
      (edited.events[1]!.payload as { result: string }).result = 'Hello, Mallory';
      expect(verifyBundle(edited, key).problem).toMatchObject({ kind: 'hash', seq: 2 });

      const truncated = load();
      truncated.events.pop();
      truncated.run.lastSeq -= 1;
      truncated.run.headHash = truncated.events[truncated.events.length - 1]!.hash;
      expect(verifyBundle(truncated, key).problem).toMatchObject({ kind: 'checkpoint', found: 'no event' });

      // Re-chained after an edit, and re-signed by someone else's key put in the bundle: intact on
      // its own terms, refused against the trusted key.
      const forged = load();
      const forger = SigningKey.generate();
      let prevHash = forged.events[0]!.hash;
      for (const event of forged.events.slice(1)) {
        if (event.seq === 2) (event.payload as { result: string }).result = 'Hello, Mallory';
        event.prevHash = prevHash;
        event.hash = hashEvent(event);
        prevHash = event.hash;
      }
      forged.run.headHash = prevHash;
      forged.checkpoints = [signCheckpoint(forger, forged.run.runId, forged.run.lastSeq, prevHash)];
      forged.publicKey = forger.publicJwk();
      expect(verifyBundle(forged).ok).toBe(true);
      expect(verifyBundle(forged, key).problem).toMatchObject({
        kind: 'key',
        expected: key.keyId,
        found: forger.keyId,
      });

      const unsigned = load();
      unsigned.checkpoints = [];
      expect(verifyBundle(unsigned, key).problem).toMatchObject({ kind: 'unsigned' });

      const badSignature = load();
      badSignature.checkpoints[0]!.signedAt = '2000-01-01T00:00:00.000Z';
      expect(verifyBundle(badSignature, key).problem).toMatchObject({ kind: 'signature' });
    } finally {
      await cleanup();
    }
  });

  it('refuse what is not a bundle', () => {
    expect(() => verifyBundle({ format: 'something-else' })).toThrow(InvalidBundleError);
    expect(() => verifyBundle('text')).toThrow(/JSON object/);
  });
});
