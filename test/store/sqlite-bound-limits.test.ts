import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReadQueries } from '../../src/store/read-queries.ts';
import { claimSql } from '../../src/store/sqlite/sqlite-fair-queue.ts';
import { sqliteDialect } from '../../src/store/sqlite/sqlite-dialect.ts';

/** A LIMIT (or OFFSET) whose count is a bare placeholder: `LIMIT ?`, `LIMIT ?2`. */
const BARE = /\b(LIMIT|OFFSET)\s+\?\d*/;

// SQLite compiles a statement with a bare `LIMIT ?` again every time its count is bound, which
// node:sqlite does on every call (docs/decisions/0043): the claim cost 137 µs of CPU instead of 11.
describe('SQLite statements', () => {
  it('bind no LIMIT as a bare placeholder: the claim, and the shared read queries in SQLite spelling', () => {
    const texts = [claimSql(true), claimSql(false)];
    const reads = new ReadQueries(sqliteDialect);
    texts.push(reads.listRuns({ limit: 5 }).text, reads.findRunIds('run_', 3).text);
    texts.push(reads.findRunIds('run_', 3, { tenant: 'acme' }).text);
    texts.push(reads.queryEvents({ limit: 5 }).text, reads.queryEvents({ runId: 'run_a', limit: 5 }).text);
    for (const text of texts) {
      expect(text).toMatch(/LIMIT/);
      expect(text).not.toMatch(BARE);
    }
  });

  it('nor does any statement in the SQLite store sources', () => {
    const dir = new URL('../../src/store/sqlite/', import.meta.url).pathname;
    for (const file of readdirSync(dir).filter(
      (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'),
    )) {
      // The code only: comments may name what they warn against.
      const source = readFileSync(join(dir, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      expect({ file, bare: BARE.exec(source)?.[0] }).toEqual({ file, bare: undefined });
    }
  });
});
