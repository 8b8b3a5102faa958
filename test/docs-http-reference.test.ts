import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTP_REFERENCE, httpReference } from '../scripts/http-reference.ts';

const ROOT = resolve(import.meta.dirname, '..');

describe('the HTTP reference (docs/guide/http-api.md)', () => {
  it('is what the OpenAPI document generates: run `npm run docs:http` after changing a route', async () => {
    const committed = await readFile(join(ROOT, HTTP_REFERENCE), 'utf8');
    expect(committed, 'docs/guide/http-api.md is stale: run `npm run docs:http`').toBe(await httpReference());
  });

  it('lists every operation of the API', async () => {
    const text = await httpReference();
    for (const path of [
      '/api/runs',
      '/api/runs/{runId}/journal',
      '/api/approvals',
      '/api/runs/{runId}/signals',
    ])
      expect(text).toContain(`\`${path}\``);
  });
});
