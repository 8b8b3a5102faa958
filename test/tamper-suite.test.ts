/**
 * Every class of edit someone with write access to the store can make to a signed, finished run,
 * applied on SQLite and on PostgreSQL, and checked at every door: `verifyRun` (the library),
 * `baton verify <run>`, `baton verify --all`, the exported bundle verified offline, and the API's
 * view of the run (which the UI shows). Each case is named by the edit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle, verifyBundle, type AuditBundle } from '../src/access/audit-bundle.ts';
import { signCheckpoint } from '../src/access/checkpoint.ts';
import { SigningKey } from '../src/access/signing-key.ts';
import { verifyRun, type VerificationProblem } from '../src/access/verify-run.ts';
import { WitnessLog } from '../src/access/witness-log.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { hashEvent, sealEvent } from '../src/journal/hash-chain.ts';
import { createServer, type BatonServer } from '../src/server/server.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { Store } from '../src/store/store.ts';
import { runCli } from './support/cli-project.ts';
import { harness, type Harness, tempStore, until } from './support/harness.ts';
import { AUTH, TOKENS } from './support/test-server.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

const refund = defineWorkflow('refund', async (ctx, input: { ticket: string }) => {
  const account = await ctx.step('load-account', () => ({ id: 'acct_1', ticket: input.ticket }));
  const approval = await ctx.waitFor<string>('go');
  const done = await ctx.step('refund', () => ({ refunded: 1200, currency: 'EUR' }));
  return { account: account.id, approval, done };
});

/** Where the suite runs: a store, its URL for the CLI, and raw SQL on its tables (as an attacker). */
interface Backend {
  store: Store;
  url: string;
  /** Runs SQL with `?` placeholders; `{t}` before a table name is its schema, if any. */
  sql(text: string, ...values: unknown[]): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
}

/** What an edit gets to work with. */
interface Signed {
  runId: string;
  events: JournalEvent[];
  /** The seq at which the run parked and was first signed. */
  parkedSeq: number;
  other: string;
}

interface TamperCase {
  edit: string;
  apply(backend: Backend, run: Signed): Promise<unknown>;
  /** The kinds `verify` may report first. */
  problem: VerificationProblem['kind'][];
  /** Checked with the witness log only (the store alone cannot show it). */
  witnessOnly?: boolean;
  /** The API caller who can see the run after the edit. */
  viewer?: keyof typeof TOKENS;
  /** The run is gone from the store (only the witness remembers it). */
  deleted?: boolean;
  /** The witness log still holds a valid final checkpoint matching the journal: with it, the run verifies. */
  witnessRestores?: boolean;
  /** The bundle only carries the journal (the edited field is not in it): it verifies, showing the journal. */
  bundleShowsJournal?: boolean;
}

async function rechain(backend: Backend, runId: string, events: readonly JournalEvent[]): Promise<string> {
  let prevHash = events[0]!.prevHash;
  for (const original of events) {
    const event = { ...original, prevHash };
    event.hash = hashEvent(event);
    await backend.sql(
      'UPDATE {t}events SET payload = ?, prev_hash = ?, hash = ? WHERE run_id = ? AND seq = ?',
      JSON.stringify(event.payload),
      event.prevHash,
      event.hash,
      runId,
      event.seq,
    );
    prevHash = event.hash;
  }
  return prevHash;
}

async function insertEvent(backend: Backend, event: JournalEvent): Promise<void> {
  await backend.sql(
    `INSERT INTO {t}events (run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    event.runId,
    event.seq,
    event.type,
    event.at,
    event.actor,
    JSON.stringify(event.onBehalfOf),
    JSON.stringify(event.payload),
    event.prevHash,
    event.hash,
  );
}

const forger = SigningKey.generate();

const CASES: TamperCase[] = [
  {
    edit: 'one character of an event payload changed',
    apply: (b, run) =>
      b.sql(
        `UPDATE {t}events SET payload = replace(payload, 'acct_1', 'acct_2') WHERE run_id = ? AND seq = 2`,
        run.runId,
      ),
    problem: ['hash'],
  },
  {
    edit: 'an event deleted from the middle',
    apply: (b, run) => b.sql('DELETE FROM {t}events WHERE run_id = ? AND seq = 2', run.runId),
    problem: ['seq'],
  },
  {
    edit: 'the last event deleted',
    apply: (b, run) =>
      b.sql('DELETE FROM {t}events WHERE run_id = ? AND seq = ?', run.runId, run.events.length),
    problem: ['head'],
  },
  {
    edit: 'the last event deleted and the run record moved back over it',
    async apply(b, run) {
      const before = run.events[run.events.length - 2]!;
      await b.sql('DELETE FROM {t}events WHERE run_id = ? AND seq = ?', run.runId, run.events.length);
      await b.sql(
        'UPDATE {t}runs SET last_seq = ?, head_hash = ? WHERE run_id = ?',
        before.seq,
        before.hash,
        run.runId,
      );
    },
    problem: ['checkpoint'],
  },
  {
    edit: 'two events swapped',
    async apply(b, run) {
      const move = 'UPDATE {t}events SET seq = ? WHERE run_id = ? AND seq = ?';
      await b.sql(move, -1, run.runId, 2);
      await b.sql(move, 2, run.runId, 3);
      await b.sql(move, 3, run.runId, -1);
    },
    problem: ['prevHash', 'hash'],
  },
  {
    edit: 'the chain rewritten with fresh hashes',
    async apply(b, run) {
      const events = run.events.map((event) =>
        event.seq === 2 && event.type === 'step.completed'
          ? { ...event, payload: { ...event.payload, result: { id: 'acct_666' } } }
          : event,
      );
      const head = await rechain(b, run.runId, events);
      await b.sql('UPDATE {t}runs SET head_hash = ? WHERE run_id = ?', head, run.runId);
    },
    problem: ['checkpoint'],
  },
  {
    edit: 'the chain rewritten with fresh hashes and the checkpoints deleted',
    async apply(b, run) {
      const events = run.events.map((event) =>
        event.seq === 2 && event.type === 'step.completed'
          ? { ...event, payload: { ...event.payload, result: { id: 'acct_666' } } }
          : event,
      );
      const head = await rechain(b, run.runId, events);
      await b.sql('UPDATE {t}runs SET head_hash = ? WHERE run_id = ?', head, run.runId);
      await b.sql('DELETE FROM {t}checkpoints WHERE run_id = ?', run.runId);
    },
    problem: ['unsigned'],
  },
  {
    edit: 'the journal cut back to an earlier signed checkpoint, the run still completed',
    async apply(b, run) {
      const parked = run.events[run.parkedSeq - 1]!;
      await b.sql('DELETE FROM {t}events WHERE run_id = ? AND seq > ?', run.runId, run.parkedSeq);
      await b.sql('DELETE FROM {t}checkpoints WHERE run_id = ? AND seq > ?', run.runId, run.parkedSeq);
      await b.sql(
        'UPDATE {t}runs SET last_seq = ?, head_hash = ? WHERE run_id = ?',
        parked.seq,
        parked.hash,
        run.runId,
      );
    },
    problem: ['record'],
  },
  {
    edit: 'the journal cut back to an earlier signed checkpoint, the run record set back to waiting',
    async apply(b, run) {
      const parked = run.events[run.parkedSeq - 1]!;
      await b.sql('DELETE FROM {t}events WHERE run_id = ? AND seq > ?', run.runId, run.parkedSeq);
      await b.sql('DELETE FROM {t}checkpoints WHERE run_id = ? AND seq > ?', run.runId, run.parkedSeq);
      await b.sql(
        `UPDATE {t}runs SET last_seq = ?, head_hash = ?, status = 'waiting', result = NULL WHERE run_id = ?`,
        parked.seq,
        parked.hash,
        run.runId,
      );
    },
    problem: ['witness'],
    witnessOnly: true,
  },
  {
    edit: 'a forged event appended after the signed end of a completed run',
    async apply(b, run) {
      const last = run.events[run.events.length - 1]!;
      const forged = sealEvent<'step.completed'>({
        runId: run.runId,
        seq: last.seq + 1,
        type: 'step.completed',
        at: last.at,
        actor: 'workflow:refund',
        onBehalfOf: ['user:alice'],
        payload: { op: 9, name: 'refund-again', attempt: 1, result: { refunded: 999_999 } },
        prevHash: last.hash,
      });
      await insertEvent(b, forged);
      await b.sql(
        'UPDATE {t}runs SET last_seq = ?, head_hash = ? WHERE run_id = ?',
        forged.seq,
        forged.hash,
        run.runId,
      );
    },
    problem: ['final'],
  },
  {
    edit: 'the end of the run replaced by a forged one and its final checkpoint deleted',
    async apply(b, run) {
      const last = run.events[run.events.length - 1]!;
      const forged = sealEvent<'run.completed'>({
        ...last,
        type: 'run.completed',
        payload: { result: { account: 'acct_1', approval: 'yes', done: { refunded: 999_999 } } },
      });
      await b.sql('DELETE FROM {t}events WHERE run_id = ? AND seq = ?', run.runId, last.seq);
      await insertEvent(b, forged);
      await b.sql(
        'UPDATE {t}runs SET head_hash = ?, result = ? WHERE run_id = ?',
        forged.hash,
        JSON.stringify(forged.payload.result),
        run.runId,
      );
      await b.sql('DELETE FROM {t}checkpoints WHERE run_id = ? AND seq = ?', run.runId, last.seq);
    },
    problem: ['unsigned'],
  },
  {
    edit: "the run record's result edited",
    apply: (b, run) =>
      b.sql(
        'UPDATE {t}runs SET result = ? WHERE run_id = ?',
        JSON.stringify({ account: 'acct_1', approval: 'yes', done: { refunded: 999_999 } }),
        run.runId,
      ),
    problem: ['record'],
    bundleShowsJournal: true,
  },
  {
    edit: "the run record's principal edited",
    apply: (b, run) => b.sql(`UPDATE {t}runs SET principal = 'user:mallory' WHERE run_id = ?`, run.runId),
    problem: ['record'],
  },
  {
    edit: "the run record's tenant edited",
    apply: (b, run) => b.sql(`UPDATE {t}runs SET tenant = 'globex' WHERE run_id = ?`, run.runId),
    problem: ['record'],
    viewer: 'mallory',
  },
  {
    edit: "the run record's input edited",
    apply: (b, run) =>
      b.sql('UPDATE {t}runs SET input = ? WHERE run_id = ?', JSON.stringify({ ticket: 'T-666' }), run.runId),
    problem: ['record'],
    bundleShowsJournal: true,
  },
  {
    edit: "the run record's parent edited",
    apply: (b, run) => b.sql('UPDATE {t}runs SET parent_run_id = ? WHERE run_id = ?', run.other, run.runId),
    problem: ['record'],
    bundleShowsJournal: true,
  },
  {
    edit: "the run record's status edited",
    apply: (b, run) => b.sql(`UPDATE {t}runs SET status = 'failed' WHERE run_id = ?`, run.runId),
    problem: ['record'],
  },
  {
    edit: "a checkpoint's signature replaced",
    apply: (b, run) =>
      b.sql(
        'UPDATE {t}checkpoints SET signature = ? WHERE run_id = ?',
        Buffer.alloc(64, 7).toString('base64url'),
        run.runId,
      ),
    problem: ['signature'],
  },
  {
    edit: 'the checkpoints replaced by ones signed with another key',
    async apply(b, run) {
      const last = run.events[run.events.length - 1]!;
      const forged = signCheckpoint(forger, run.runId, last.seq, last.hash, Date.now(), 'completed');
      await b.sql('DELETE FROM {t}checkpoints WHERE run_id = ?', run.runId);
      await b.sql(
        `INSERT INTO {t}checkpoints (run_id, seq, key_id, head_hash, signed_at, signature, status)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        forged.runId,
        forged.seq,
        forged.keyId,
        forged.headHash,
        forged.signedAt,
        forged.signature,
        forged.status,
      );
    },
    problem: ['key'],
  },
  {
    edit: 'the final checkpoint deleted',
    apply: (b, run) =>
      b.sql('DELETE FROM {t}checkpoints WHERE run_id = ? AND seq = ?', run.runId, run.events.length),
    problem: ['unsigned'],
    witnessRestores: true,
  },
  {
    edit: 'the run deleted outright',
    async apply(b, run) {
      await b.sql('DELETE FROM {t}events WHERE run_id = ?', run.runId);
      await b.sql('DELETE FROM {t}checkpoints WHERE run_id = ?', run.runId);
      await b.sql('DELETE FROM {t}runs WHERE run_id = ?', run.runId);
    },
    problem: [],
    witnessOnly: true,
    deleted: true,
  },
];

/** The tamper suite on one backend. */
function tamperSuite(openBackend: () => Promise<Backend>): void {
  const key = SigningKey.generate();
  let backend: Backend;
  let h: Harness;
  let api: BatonServer;
  let directory: string;
  let witness: string;
  let publicKeyFile: string;

  beforeAll(async () => {
    backend = await openBackend();
    directory = mkdtempSync(join(tmpdir(), 'baton-tamper-'));
    witness = join(directory, 'witness.log');
    publicKeyFile = join(directory, 'baton.pub.pem');
    writeFileSync(publicKeyFile, key.publicPem());
    h = await harness({ workflows: [refund], store: backend.store, signing: { key, witness } });
    api = await createServer(h.baton, { auth: AUTH, log: () => undefined });
  });
  afterAll(async () => {
    api?.close();
    await h?.close();
    await backend?.dispose();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A run that parked (signed), was signalled and completed (signed final, witnessed). */
  async function signedRun(ticket: string): Promise<Signed> {
    const other = await h.baton.start(
      refund,
      { ticket: `${ticket}-other` },
      { as: 'user:alice', tenant: 'acme' },
    );
    const run = await h.baton.start(refund, { ticket }, { as: 'user:alice', tenant: 'acme' });
    const parked = await h.settle(run.runId, 'waiting');
    await until(
      async () =>
        (await h.store.checkpoints!.listCheckpoints(run.runId)).some((c) => c.seq === parked.lastSeq),
      'the checkpoint of the parked run',
    );
    await h.baton.signal(run.runId, 'go', 'yes');
    await run.result();
    const done = (await h.store.getRun(run.runId))!;
    await until(
      async () => (await h.store.checkpoints!.listCheckpoints(run.runId)).some((c) => c.seq === done.lastSeq),
      'the final checkpoint',
    );
    await h.baton.signer!.flush();
    return {
      runId: run.runId,
      events: await h.store.readEvents(run.runId),
      parkedSeq: parked.lastSeq,
      other: other.runId,
    };
  }

  const cli = (args: string[]) =>
    runCli([...args, '--store', backend.url, '--key', publicKeyFile], { cwd: directory });

  it('an intact signed run passes every door', async () => {
    const run = await signedRun('T-intact');
    const report = await verifyRun(h.store, run.runId, key.publicKey, {
      witness: new WitnessLog(witness).read(),
    });
    expect(report).toMatchObject({
      ok: true,
      final: true,
      status: 'completed',
      signedSeq: run.events.length,
    });
    const one = await cli(['verify', run.runId, '--witness', witness]);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.stdout).toContain('Final: the run completed');
    const bundle = await exportBundle(h.store, run.runId, { publicKey: key });
    expect(verifyBundle(bundle, key.publicKey)).toMatchObject({ ok: true, final: true });
    const view = await apiView(run.runId, 'alice');
    expect(view.evidence).toMatchObject({
      consistent: true,
      disagreements: [],
      signatures: { ok: true, final: true },
    });
  });

  it('without a key, verification fails closed unless unsigned runs are accepted', async () => {
    const run = await signedRun('T-nokey');
    const nokey = await runCli(['verify', run.runId, '--store', backend.url], { cwd: directory });
    expect(nokey.code).toBe(1);
    expect(nokey.stdout).toContain('no public key to check signatures with');
    const accepted = await runCli(['verify', run.runId, '--store', backend.url, '--allow-unsigned'], {
      cwd: directory,
    });
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(accepted.stdout).toContain('NOT checked');
    expect((await verifyRun(h.store, run.runId, [])).problem).toMatchObject({ kind: 'unsigned' });
  });

  async function apiView(
    runId: string,
    as: keyof typeof TOKENS,
  ): Promise<{ status: number; run: Record<string, unknown>; evidence: Record<string, unknown> }> {
    const response = await api.fetch(
      new Request(`http://baton.test/api/runs/${runId}`, {
        headers: { authorization: `Bearer ${TOKENS[as]}` },
      }),
    );
    const body = (await response.json()) as {
      run: Record<string, unknown>;
      evidence: Record<string, unknown>;
    };
    return { status: response.status, ...body };
  }

  for (const tamper of CASES) {
    it(tamper.edit, async () => {
      const run = await signedRun(`T-${CASES.indexOf(tamper)}`);
      const original = (await h.store.getRun(run.runId))!;
      await tamper.apply(backend, run);
      const witnessed = new WitnessLog(witness).read();
      expect(witnessed.broken).toBeUndefined();

      // The library, and `baton verify <run>`: by the store alone, and against the witness log.
      if (!tamper.deleted) {
        const alone = await verifyRun(h.store, run.runId, key.publicKey);
        const withWitness = await verifyRun(h.store, run.runId, key.publicKey, { witness: witnessed });
        if (tamper.witnessOnly) {
          // What the store alone cannot show (docs/guide/evidence.md): a consistent prefix of an unfinished run.
          expect(alone.ok).toBe(true);
          expect(withWitness.problem?.kind).toBe('witness');
        } else {
          expect(alone.ok, JSON.stringify(alone.problems)).toBe(false);
          expect(tamper.problem, JSON.stringify(alone.problems)).toContain(alone.problem?.kind);
          expect((await cli(['verify', run.runId])).code).toBe(1);
          expect(withWitness.ok).toBe(tamper.witnessRestores === true);
        }
        const one = await cli(['verify', run.runId, '--witness', witness]);
        expect(one.code, one.stdout + one.stderr).toBe(tamper.witnessRestores ? 0 : 1);
      } else {
        expect((await cli(['verify', run.runId])).code).not.toBe(0);
      }

      // `baton verify --all`.
      const all = await cli([
        'verify',
        '--all',
        '--json',
        ...(tamper.witnessOnly ? ['--witness', witness] : []),
      ]);
      expect(all.code).toBe(1);
      const report = JSON.parse(all.stdout) as { failed: { runId: string }[]; missing: string[] };
      if (tamper.deleted) expect(report.missing).toContain(run.runId);
      else expect(report.failed.map((failed) => failed.runId)).toContain(run.runId);

      if (tamper.deleted) return;

      // The bundle, offline (only the bundle and the public key).
      const bundle = JSON.parse(
        JSON.stringify(await exportBundle(h.store, run.runId, { publicKey: key })),
      ) as AuditBundle;
      const offline = verifyBundle(bundle, key.publicPem());
      if (tamper.bundleShowsJournal) {
        expect(offline.ok).toBe(true);
        expect(bundle.events[0]!.payload).toMatchObject({ input: original.input });
        expect(bundle.events[bundle.events.length - 1]!.payload).toEqual({ result: original.result });
      } else {
        expect(offline.ok, JSON.stringify(offline.problems)).toBe(false);
      }

      // The API (and the UI, which shows what it answers): journal-held fields come from the journal.
      if (!tamper.witnessOnly) {
        const view = await apiView(run.runId, tamper.viewer ?? 'alice');
        expect(view.status).toBe(200);
        expect(view.evidence.consistent).toBe(false);
        expect(view.run.principal).toBe('user:alice');
        expect(view.run.tenant).toBe('acme');
        expect(view.run.input).toEqual(original.input);
        expect(view.run.parentRunId).toBeUndefined();
        // `baton show` too: the journal's values, and the disagreement named.
        const shown = await cli(['show', run.runId, '--json']);
        const { run: shownRun, evidence } = JSON.parse(shown.stdout) as {
          run: Record<string, unknown>;
          evidence: { consistent: boolean };
        };
        expect(evidence.consistent).toBe(false);
        expect(shownRun).toMatchObject({ principal: 'user:alice', tenant: 'acme', input: original.input });
      }
    });
  }

  it('a bundle cut to a signed prefix is refused, however its status reads', async () => {
    const run = await signedRun('T-prefix');
    const bundle = await exportBundle(h.store, run.runId, { publicKey: key });
    const cut = JSON.parse(JSON.stringify(bundle)) as AuditBundle;
    cut.events = cut.events.slice(0, run.parkedSeq);
    cut.checkpoints = cut.checkpoints.filter((checkpoint) => checkpoint.seq <= run.parkedSeq);
    cut.run.lastSeq = run.parkedSeq;
    cut.run.headHash = cut.events[cut.events.length - 1]!.hash;
    const completed = verifyBundle(cut, key.publicKey);
    expect(completed.problem).toMatchObject({ kind: 'record', field: 'status', expected: 'unfinished' });
    expect(completed.problems.map((problem) => problem.kind)).toContain('unfinished');
    cut.run.status = 'waiting';
    expect(verifyBundle(cut, key.publicKey).problems.map((problem) => problem.kind)).toEqual(['unfinished']);
    // Accepted only explicitly, and then only as the prefix it is.
    expect(verifyBundle(cut, key.publicKey, { allowUnfinished: true })).toMatchObject({
      ok: true,
      final: false,
      status: 'unfinished',
      signedSeq: run.parkedSeq,
    });
    const file = join(directory, 'cut.bundle.json');
    writeFileSync(file, JSON.stringify(cut));
    const refused = await runCli(['verify', '--bundle', file, '--key', publicKeyFile], { cwd: directory });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('had not ended');
  });

  it('a bundle whose status or end was changed is refused', async () => {
    const run = await signedRun('T-bundle-status');
    const bundle = await exportBundle(h.store, run.runId, { publicKey: key });
    const status = JSON.parse(JSON.stringify(bundle)) as AuditBundle;
    status.run.status = 'failed';
    expect(verifyBundle(status, key.publicKey).problem).toMatchObject({ kind: 'record', field: 'status' });
    const grown = JSON.parse(JSON.stringify(bundle)) as AuditBundle;
    const last = grown.events[grown.events.length - 1]!;
    const forged = sealEvent<'step.completed'>({
      runId: run.runId,
      seq: last.seq + 1,
      type: 'step.completed',
      at: last.at,
      actor: 'workflow:refund',
      onBehalfOf: [],
      payload: { op: 9, name: 'more', attempt: 1 },
      prevHash: last.hash,
    });
    grown.events.push(forged);
    grown.run.lastSeq = forged.seq;
    grown.run.headHash = forged.hash;
    expect(verifyBundle(grown, key.publicKey).problem).toMatchObject({ kind: 'final', seq: forged.seq });
  });
}

describe('tamper suite on SQLite', () => {
  tamperSuite(async () => {
    const temp = await tempStore();
    const db = new DatabaseSync(temp.path);
    db.exec('PRAGMA busy_timeout = 10000');
    return {
      store: temp.store,
      url: `sqlite:${temp.path}`,
      async sql(text, ...values) {
        return db.prepare(text.replaceAll('{t}', '')).all(...(values as never[]));
      },
      async dispose() {
        db.close();
        await temp.dispose();
      },
    };
  });
});

const unavailable = await postgresUnavailable();
describePostgres('tamper suite on PostgreSQL', unavailable, () => {
  const database = databaseForSuite();
  tamperSuite(async () => {
    const store = await PostgresStore.open({ url: database.url, poolSize: 4 });
    return {
      store,
      url: database.url,
      async sql(text, ...values) {
        let index = 0;
        return database.query(
          text.replaceAll('{t}', 'baton.').replace(/\?/g, () => `$${++index}`),
          values,
        );
      },
      dispose: () => store.close(),
    };
  });
});
