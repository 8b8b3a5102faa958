// `npm run docs:generate`: writes the guide's generated pages, the HTTP API reference (from the
// OpenAPI document) and the errors reference (from the error classes), so they say what the code does.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorsReference, ERRORS_REFERENCE } from './errors-reference.ts';
import { httpReference, HTTP_REFERENCE } from './http-reference.ts';

const ROOT = resolve(import.meta.dirname, '..');

for (const [page, generate] of [
  [HTTP_REFERENCE, httpReference],
  [ERRORS_REFERENCE, errorsReference],
] as const) {
  await writeFile(join(ROOT, page), await generate());
  console.log(`Wrote ${page}`);
}
