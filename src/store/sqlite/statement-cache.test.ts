import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatementCache } from './statement-cache.ts';

describe('StatementCache.writeTransaction', () => {
  let dir: string;
  let db: DatabaseSync;
  let statements: StatementCache;
  const synchronous = (): number => Number(db.prepare('PRAGMA synchronous').get()!.synchronous);
  const rows = (): number => Number(db.prepare('SELECT COUNT(*) AS n FROM t').get()!.n);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-write-transaction-'));
    db = new DatabaseSync(join(dir, 'x.db'));
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (x INTEGER)');
    statements = new StatementCache(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits without an fsync only when relaxed, and the connection fsyncs every commit again after', () => {
    const seen: number[] = [];
    statements.writeTransaction(() => {
      seen.push(synchronous());
      db.prepare('INSERT INTO t VALUES (1)').run();
    });
    statements.writeTransaction(
      () => {
        seen.push(synchronous());
        db.prepare('INSERT INTO t VALUES (2)').run();
      },
      { relaxSync: true },
    );
    // FULL is 2, NORMAL 1.
    expect(seen).toEqual([2, 1]);
    expect(synchronous()).toBe(2);
    expect(rows()).toBe(2);
  });

  it('rolls back and restores FULL when the work throws', () => {
    expect(() =>
      statements.writeTransaction(
        () => {
          db.prepare('INSERT INTO t VALUES (1)').run();
          throw new Error('broken');
        },
        { relaxSync: true },
      ),
    ).toThrow('broken');
    expect(db.isTransaction).toBe(false);
    expect(rows()).toBe(0);
    expect(synchronous()).toBe(2);
  });
});
