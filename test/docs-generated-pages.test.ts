import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS_REFERENCE, errorsReference } from '../scripts/errors-reference.ts';
import { HTTP_REFERENCE, httpReference } from '../scripts/http-reference.ts';

const ROOT = resolve(import.meta.dirname, '..');

describe('the generated pages of the guide', () => {
  it.each([
    [HTTP_REFERENCE, httpReference],
    [ERRORS_REFERENCE, errorsReference],
  ])('%s is what the code generates: run `npm run docs:generate` after a change', async (page, generate) => {
    const committed = await readFile(join(ROOT, page), 'utf8');
    expect(committed, `${page} is stale: run \`npm run docs:generate\``).toBe(await generate());
  });

  it('the HTTP reference lists every operation of the API', async () => {
    const text = await httpReference();
    for (const path of [
      '/api/runs',
      '/api/runs/{runId}/journal',
      '/api/approvals',
      '/api/runs/{runId}/signals',
    ])
      expect(text).toContain(`\`${path}\``);
  });

  it('the errors reference gives each exported error its code and disposition', async () => {
    const text = await errorsReference();
    const row = (...cells: string[]) =>
      new RegExp(`\\|\\s*${cells.map((cell) => cell.replace(/[|()]/g, '\\$&')).join('\\s*\\|\\s*')}\\s*\\|`);
    expect(text).toMatch(row('`NonDeterminismError`', '`NON_DETERMINISM`', 'terminal'));
    expect(text).toMatch(row('`RateLimitedError`', '`RATE_LIMITED`', 'retryable'));
    expect(text).toMatch(row('`StepFailedError`', "`STEP_FAILED`, or the failure's own code", 'terminal'));
    expect(text).toMatch(row('`DelegationWidensError`', '`DELEGATION_WIDENS`'));
    expect(text).not.toContain('(varies)');
  });
});
